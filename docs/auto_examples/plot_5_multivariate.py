"""
=====================================
Multivariate series: BasicMotions
=====================================

Nothing changes for multivariate data: the tokenizer reads aeon's 3D
collections ``(n_cases, n_channels, n_timepoints)``, standardises each
channel, and encodes all channels into one token grid (the channels are the
input channels of its first convolution). BasicMotions has 6 channels
(accelerometer and gyroscope, x/y/z) of length 100 and four classes
(standing, walking, running, badminton), with 40 training series.

This example classifies BasicMotions with the tokenizer's features, next to
aeon's ``MiniRocketClassifier``, plots reconstructions of every channel and
draws class-conditional samples from a generator. Both stages train at the
package default budget. The example runs in under five minutes on 2 CPU cores;
the time measured when this page was rendered is at its bottom.
"""

import matplotlib.pyplot as plt
import numpy as np
from aeon.classification.convolution_based import MiniRocketClassifier
from aeon.datasets import load_basic_motions
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer
from skncvqvae.evaluation import plot_reconstructions, plot_samples_by_class

X_train, y_train = load_basic_motions(split="train")
X_test, y_test = load_basic_motions(split="test")
print("train", X_train.shape, "test", X_test.shape, "classes", np.unique(y_train))

# %%
# Classification
# --------------
tokenizer_svc = make_pipeline(
    NCVQVAETokenizer(random_state=0),
    MinMaxScaler(),
    SVC(kernel="linear"),
)
tokenizer_svc.fit(X_train, y_train)
print(f"tokenizer + SVC  test accuracy {tokenizer_svc.score(X_test, y_test):.3f}")

# %%
# The fitted tokenizer keeps one mean and scale per channel, and one token
# grid per series, whatever the number of channels.
tokenizer = tokenizer_svc[0]
print("channels:", tokenizer.n_channels_, "per-channel means:", tokenizer.mean_.round(2))
print("token grid:", tokenizer.token_shape_)

# %%
# Reconstructions
# ---------------
# One column per test series, one row per channel (``max_channels=6`` shows
# them all); solid: the series, dashed: ``decode(encode(x))``.
fig = plot_reconstructions(
    X_test[::10][:3], tokenizer.reconstruct(X_test[::10][:3]), max_channels=6
)
plt.figure(fig)

# %%
# Generation
# ----------
# A generator reuses the fitted tokenizer with ``refit_tokenizer=False``: only
# the prior (stage 2) trains. Then ``sample`` draws two series per class.
generator = NCVQVAEGenerator(
    tokenizer,
    refit_tokenizer=False,
    random_state=0,
).fit(X_train, y_train)
X_new, y_new = generator.sample(y=np.repeat(generator.classes_, 2))
print("generated:", X_new.shape, y_new.tolist())

# %%
# :func:`~skncvqvae.evaluation.plot_samples_by_class` draws the first channel
# (the title says so); compare the real series (left) with the generated ones
# (right) class by class.
fig = plot_samples_by_class(X_train, y_train, X_new, y_new, n_per_class=2)
plt.figure(fig)

# %%
# Beside aeon's MiniRocket
# ------------------------
# MiniRocket runs last on purpose. aeon's numba-compiled code starts numba's
# OpenMP threading layer; in the same process, a torch training on several
# threads that comes after it ran 10-25x slower per step (a second OpenMP
# runtime competes for the cores), and the package's ``fit`` warns when that
# happens. Setting ``NUMBA_THREADING_LAYER=workqueue`` in the environment
# before aeon is imported avoids it in any order; so does one torch thread.
minirocket = MiniRocketClassifier(random_state=0).fit(X_train, y_train)
print(f"MiniRocket       test accuracy {minirocket.score(X_test, y_test):.3f}")
plt.show()
