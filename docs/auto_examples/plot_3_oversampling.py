"""
==========================================================
Balancing an imbalanced training set with generated series
==========================================================

:class:`~skncvqvae.NCVQVAEGenerator` is a class-conditional generator with
imbalanced-learn's sampler method: ``fit_resample(X, y)`` returns the real
series followed by generated ones, so that every class reaches the size of the
largest (``sampling_strategy="auto"``). Each generated series is a variation
of a real series of its class: half of its tokens (``resample_mask_ratio``)
are drawn again by the class-conditional prior. Inside an imbalanced-learn
:class:`~imblearn.pipeline.Pipeline` the resampling happens in ``fit`` only;
``predict`` and ``score`` see the test series untouched.

This example removes most of one class of ItalyPowerDemand's training split
(67 series of 24 hourly values: a day of electricity demand, in winter or in
summer), then trains the same 1-nearest-neighbour classifier four ways: on the
imbalanced data as it is, behind imbalanced-learn's ``RandomOverSampler``
(copies of the minority series) and ``SMOTE`` (interpolations between them),
and behind the generator. It compares their balanced accuracy on the
(balanced) test split. It needs ``imbalanced-learn`` (``pip install
imbalanced-learn``). Both stages of the generator train at the package default
budget (``max_epochs="auto"``). The example runs in under five minutes on 2
CPU cores; the time measured when this page was rendered is at its bottom.
"""

import matplotlib.pyplot as plt
import numpy as np
from aeon.datasets import load_italy_power_demand
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import make_pipeline
from sklearn.metrics import balanced_accuracy_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import FunctionTransformer

from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer
from skncvqvae.evaluation import plot_samples_by_class
from skncvqvae.metrics import closer_to_train_share, dcr_ratio

# %%
# An imbalanced training set
# --------------------------
# Class "2" keeps 5 of its 33 training series (drawn with a fixed seed).
X_train, y_train = load_italy_power_demand(split="train")
X_test, y_test = load_italy_power_demand(split="test")

rng = np.random.default_rng(0)
keep = np.sort(
    np.r_[
        np.flatnonzero(y_train == "1"),
        rng.choice(np.flatnonzero(y_train == "2"), size=5, replace=False),
    ]
)
X_imb, y_imb = X_train[keep], y_train[keep]
labels, counts = np.unique(y_imb, return_counts=True)
print("training counts:", dict(zip(labels.tolist(), counts.tolist())))

# %%
# Four classifiers
# ----------------
# The same 1-NN (Euclidean distance) classifier, with no over-sampling and
# behind three over-samplers. ``imblearn.pipeline.make_pipeline`` calls each
# sampler's ``fit_resample`` on the training data only, then fits the
# classifier on the result. scikit-learn's classifiers and imbalanced-learn's
# samplers take 2D input, so the series ``(n_cases, 1, 24)`` are flattened
# first; the generator reads the 3D series itself. SMOTE interpolates between
# a series and one of its ``k_neighbors`` nearest neighbours of the same class:
# 4, as the minority class has only 5 series.


def flatten(X):
    """``(n_cases, n_channels, n_timepoints)`` -> ``(n_cases, n_channels * n_timepoints)``."""
    return np.asarray(X).reshape(len(X), -1)


def one_nn(*steps):
    return make_pipeline(*steps, KNeighborsClassifier(n_neighbors=1))


generator = NCVQVAEGenerator(NCVQVAETokenizer(random_state=0), random_state=0)
models = {
    "1-NN": one_nn(FunctionTransformer(flatten)),
    "RandomOverSampler + 1-NN": one_nn(
        FunctionTransformer(flatten), RandomOverSampler(random_state=0)
    ),
    "SMOTE + 1-NN": one_nn(FunctionTransformer(flatten), SMOTE(k_neighbors=4, random_state=0)),
    "NCVQVAEGenerator + 1-NN": one_nn(generator, FunctionTransformer(flatten)),
}
scores = {}
for name, model in models.items():
    model.fit(X_imb, y_imb)
    scores[name] = balanced_accuracy_score(y_test, model.predict(X_test))
    print(f"{name:24} balanced test accuracy {scores[name]:.3f}")

# %%
# One split and one seed cannot say which over-sampler is better in general:
# on 30-150 training series, balanced accuracies move by several points from
# seed to seed. The benchmark page ("When does generated data help?") has the
# comparison over many datasets, seeds and classifiers.
#
# What the generator adds
# -----------------------
# The pipeline's first step is the fitted generator. ``fit_resample`` with
# ``sampling_strategy="auto"`` generated ``34 - 5 = 29`` series of class "2",
# variations of its 5 real ones; ``sample`` draws whole new series of any
# class from the prior, reproducibly for a given ``random_state``.
fitted = models["NCVQVAEGenerator + 1-NN"].steps[0][1]
print("classes:", fitted.classes_, "training counts:", fitted.class_counts_)
X_new, y_new = fitted.sample(y=["1"] * 5 + ["2"] * 5, random_state=1)
print("generated:", X_new.shape, y_new.tolist())

# %%
# Real (left) against generated (right) series, one row per class. Class "2"
# had only the 5 real series on the left to learn from.
fig = plot_samples_by_class(X_imb, y_imb, X_new, y_new, n_per_class=5)
plt.figure(fig)

# %%
# ``sample_variations`` is the step ``fit_resample`` takes for each new
# series: the token grid of a given series with a share of its positions
# (``mask_ratio``) drawn again. Below, the 5 real series of class "2" (left)
# and a variation of each (right), with half of their tokens redrawn.
minority = X_imb[y_imb == "2"]
X_var, y_var = fitted.sample_variations(minority, "2", mask_ratio=0.5, random_state=1)
fig = plot_samples_by_class(minority, y_imb[y_imb == "2"], X_var, y_var, n_per_class=5)
plt.figure(fig)

# %%
# Are the generated series new?
# -----------------------------
# A generator that returns its training series would add nothing that
# ``RandomOverSampler`` does not. :func:`~skncvqvae.metrics.closer_to_train_share`
# measures it: the share of generated series that lie closer to a training
# series than to any of an equal number of real series the generator never
# saw (here test series of the same class). About 0.5 means the samples are
# as new as fresh real data; 1 means copies. :func:`~skncvqvae.metrics.dcr_ratio`
# is the median distance of a sample to its closest training series over the
# same for the held-out series (1: as far as fresh data; near 0: copies).
train_1 = X_imb[y_imb == "1"]
held_out_1 = X_test[y_test == "1"][: len(train_1)]
X_gen_1, _ = fitted.sample(y=["1"] * len(train_1), random_state=2)
print(f"closer to train: {closer_to_train_share(X_gen_1, train_1, held_out_1):.2f}")
print(f"DCR ratio:       {dcr_ratio(X_gen_1, train_1, held_out_1):.2f}")

# %%
# Outside a pipeline, ``X_res, y_res = generator.fit_resample(X_imb, y_imb)``
# returns the same resampled training set: the 39 real series first,
# unchanged, then the 29 generated ones. ``sampling_strategy`` takes
# imbalanced-learn's values (``"auto"``, ``"minority"``, ``"all"``, a float for
# two classes, or a dict ``{label: count}``).

# %%
names = list(scores)
fig, ax = plt.subplots(figsize=(6, 2.6), layout="constrained")
ax.barh(names, [scores[n] for n in names], color=["C7", "C0", "C2", "C1"])
ax.set_xlim(0.5, 1.0)
ax.set_xlabel("balanced accuracy on the test split")
ax.invert_yaxis()
plt.show()
