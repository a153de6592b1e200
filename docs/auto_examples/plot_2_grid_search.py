"""
==================================================
Tuning the tokenizer and the classifier together
==================================================

The tokenizer's parameters are ordinary estimator parameters, so
:class:`~sklearn.model_selection.GridSearchCV` tunes them together with the
classifier's (``tokenizer__ssl``, ``svc__C``), and can even swap the whole
model for another candidate (here aeon's ``MiniRocketClassifier``). The search
runs its fits in two processes (``n_jobs=2``).

Data: ItalyPowerDemand (67 training series of length 24). Every tokenizer
trains at the package default budget. The example runs in under five minutes
on 2 CPU cores; the time measured when this page was rendered is at its
bottom.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from aeon.classification.convolution_based import MiniRocketClassifier
from aeon.datasets import load_italy_power_demand
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

from skncvqvae import NCVQVAETokenizer

X_train, y_train = load_italy_power_demand(split="train")
X_test, y_test = load_italy_power_demand(split="test")
print("train", X_train.shape, "test", X_test.shape)

# %%
# The search space
# ----------------
# A list of grids: the first tunes the tokenizer pipeline (naive TimeVQVAE
# against VIBCReg NC-VQVAE, and the SVC's ``C``); the second
# replaces the tokenizer and the scaler by ``"passthrough"`` and the SVC by
# MiniRocket, which reads the 3D series directly. Every candidate is scored
# by 3-fold stratified cross-validation on the training split only.
pipe = Pipeline(
    [
        ("tokenizer", NCVQVAETokenizer(random_state=0)),
        ("scale", MinMaxScaler()),
        ("svc", SVC(kernel="linear")),
    ]
)
param_grid = [
    {
        "tokenizer__ssl": [None, "vibcreg"],
        "svc__C": [0.1, 10.0],
    },
    {
        "tokenizer": ["passthrough"],
        "scale": ["passthrough"],
        "svc": [MiniRocketClassifier(random_state=0)],
    },
]
search = GridSearchCV(
    pipe, param_grid, cv=StratifiedKFold(3, shuffle=True, random_state=0), n_jobs=2
)
search.fit(X_train, y_train)

# %%
# Results
# -------
# ``cv_results_`` has one row per candidate. With ``n_jobs=2`` each worker
# process gets one torch thread (joblib limits the threads of its workers), so
# the two fits do not compete for the cores.


def describe(params):
    if params.get("tokenizer") == "passthrough":
        return "MiniRocket (aeon)"
    return f"ssl={params['tokenizer__ssl']}, C={params['svc__C']}"


results = pd.DataFrame(
    {
        "candidate": [describe(p) for p in search.cv_results_["params"]],
        "cv accuracy": search.cv_results_["mean_test_score"],
        "std": search.cv_results_["std_test_score"],
        "fit s": search.cv_results_["mean_fit_time"],
        "rank": search.cv_results_["rank_test_score"],
    }
)
print(results.round(3).to_string(index=False))

# %%
# The best candidate was refitted on the whole training split
# (``refit=True``, the default) and is scored on the test split, which the
# search never saw.
print("best:", describe(search.best_params_), f"(cv accuracy {search.best_score_:.3f})")
print(f"test accuracy of the refitted best model: {search.score(X_test, y_test):.3f}")

# %%
order = np.argsort(results["cv accuracy"].to_numpy())
fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
ax.barh(
    results["candidate"].to_numpy()[order],
    results["cv accuracy"].to_numpy()[order],
    xerr=results["std"].to_numpy()[order],
    color=["C0" if "Rocket" in c else "C1" for c in results["candidate"].to_numpy()[order]],
)
ax.set_xlim(0.5, 1.0)
ax.set_xlabel("3-fold CV accuracy (mean and std)")
ax.set_title("ItalyPowerDemand: grid search over tokenizer and classifier")
plt.show()

# %%
# Notes
# -----
# - Each candidate refits its tokenizer, although the tokenizer does not
#   depend on ``svc__C``. To fit each tokenizer once per fold, give the
#   pipeline a cache (``Pipeline(..., memory="cachedir")``).
# - :class:`~skncvqvae.NCVQVAEGenerator` has a ``score`` method (the negative
#   FID of generated against held-out series), so ``GridSearchCV`` can also
#   select a *generator*'s parameters without labels.
