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

This example removes most of one class of GunPoint's training split, then
trains a 1-nearest-neighbour classifier with and without the generator in
front of it and compares their balanced accuracy on the (balanced) test split.
It needs ``imbalanced-learn`` (``pip install imbalanced-learn``) and runs in
a few minutes on 2 CPU cores (both stages at the package default budget,
``max_epochs="auto"``).
"""

# %%
# Budget
# ------
# Under ``SKNCVQVAE_DOCS_FAST=1`` (the documentation build) both stages train
# 4 epochs and the decoder is fine-tuned 4 steps: the generated series on the web page are those of a barely
# trained model and look nothing like their class (flat lines or noise). Run
# the script without the variable to see class-shaped samples.
import os

import matplotlib.pyplot as plt
import numpy as np
from aeon.datasets import load_gunpoint
from imblearn.pipeline import make_pipeline
from sklearn.metrics import balanced_accuracy_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import FunctionTransformer

from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer
from skncvqvae.evaluation import plot_samples_by_class

FAST = os.environ.get("SKNCVQVAE_DOCS_FAST", "") not in ("", "0")
EPOCHS_STAGE1 = 4 if FAST else "auto"
EPOCHS_STAGE2 = 4 if FAST else "auto"
DECODER_STEPS = 4 if FAST else 1000

# %%
# An imbalanced training set
# --------------------------
# Class "2" keeps 5 of its 26 training series (drawn with a fixed seed).
X_train, y_train = load_gunpoint(split="train")
X_test, y_test = load_gunpoint(split="test")

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
# Two classifiers
# ---------------
# The same 1-NN (Euclidean distance) classifier, once on the imbalanced data
# and once behind the generator. ``imblearn.pipeline.make_pipeline`` calls the
# generator's ``fit_resample`` on the training data, then fits the classifier
# on the result. scikit-learn's classifiers take 2D input, so the series
# ``(n_cases, 1, 150)`` are flattened first.


def flatten(X):
    """``(n_cases, n_channels, n_timepoints)`` -> ``(n_cases, n_channels * n_timepoints)``."""
    return np.asarray(X).reshape(len(X), -1)


def one_nn():
    return make_pipeline(FunctionTransformer(flatten), KNeighborsClassifier(n_neighbors=1))


generator = NCVQVAEGenerator(
    NCVQVAETokenizer(max_epochs=EPOCHS_STAGE1, random_state=0),
    max_epochs=EPOCHS_STAGE2,
    decoder_steps=DECODER_STEPS,
    random_state=0,
)
models = {
    "1-NN": one_nn(),
    "NCVQVAEGenerator + 1-NN": make_pipeline(
        generator, FunctionTransformer(flatten), KNeighborsClassifier(n_neighbors=1)
    ),
}
scores = {}
for name, model in models.items():
    model.fit(X_imb, y_imb)
    scores[name] = balanced_accuracy_score(y_test, model.predict(X_test))
    print(f"{name:24} balanced test accuracy {scores[name]:.3f}")

# %%
# Whether the generated series help depends on how well the generator has
# learned the minority class from its 5 examples; the balanced accuracy above
# answers that for this dataset and budget. ``benchmarks/augmentation.py`` in
# the repository runs the same comparison on four datasets and several seeds,
# against imbalanced-learn's ``RandomOverSampler`` and ``SMOTE``.
#
# What the generator adds
# -----------------------
# The pipeline's first step is the fitted generator. ``fit_resample`` with
# ``sampling_strategy="auto"`` generated ``24 - 5 = 19`` series of class "2",
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
# Outside a pipeline, ``X_res, y_res = generator.fit_resample(X_imb, y_imb)``
# returns the same resampled training set: the 29 real series first,
# unchanged, then the 19 generated ones. ``sampling_strategy`` takes
# imbalanced-learn's values (``"auto"``, ``"minority"``, ``"all"``, a float for
# two classes, or a dict ``{label: count}``).

# %%
names = list(scores)
fig, ax = plt.subplots(figsize=(6, 2.2), layout="constrained")
ax.barh(names, [scores[n] for n in names], color=["C7", "C1"])
ax.set_xlim(0.5, 1.0)
ax.set_xlabel("balanced accuracy on the test split")
ax.invert_yaxis()
plt.show()
