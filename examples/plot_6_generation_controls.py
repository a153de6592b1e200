"""
=====================================
Generation controls
=====================================

:class:`~skncvqvae.NCVQVAEGenerator` samples token grids with MaskGIT's
iterative decoding: it starts from a fully masked grid and, over
``n_iterations`` steps, fills in the tokens it is most confident about. Four
parameters steer it, and all four act at sampling time only, so
``set_params`` changes them on a fitted generator without refitting:

- ``n_iterations`` (default 10): decoding steps. One step fills the whole
  grid at once; more steps let later tokens depend on earlier ones.
- ``choice_temperature`` (default 1; the thesis used 4): scale of the random
  noise added to the confidence that decides which tokens are kept at each
  step (annealed to 0 over the steps). Higher values keep less likely tokens:
  more varied samples.
- ``guidance_scale`` (default 2; 1 is off): classifier-free guidance. Values above
  1 push the logits away from the unconditional model's, towards what is
  typical of the requested class: samples more clearly of their class, less
  varied. It needs a prior trained with class dropout (``p_unconditional``,
  0.2 by default).
- ``temperature`` (default 1.5): the logits are divided by it before each
  token is drawn. Above 1 the draws spread over more of the codebook, which
  keeps the prior from reproducing its training series' token grids (the
  benchmark page has the measurements behind the default); below 1 they
  concentrate on the most likely tokens.

This example fits one generator on ItalyPowerDemand (67 training series of 24
hourly values: a day of electricity demand, in winter or in summer) and shows
samples of class "2" for several values of each parameter. Both stages train
at the package default budget (``max_epochs="auto"``). The example runs in
under five minutes on 2 CPU cores; the time measured when this page was
rendered is at its bottom.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from aeon.datasets import load_italy_power_demand

from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer

X_train, y_train = load_italy_power_demand(split="train")
generator = NCVQVAEGenerator(
    NCVQVAETokenizer(random_state=0),
    random_state=0,
).fit(X_train, y_train)
defaults = generator.get_params()
print({k: defaults[k] for k in ("n_iterations", "choice_temperature", "guidance_scale")})

# %%
# Sampling under each setting
# ---------------------------
# For each setting, eight series of class "2" with the same ``random_state``,
# so that only the parameter changes between panels. Each parameter is varied
# with the other two at their defaults. Two numbers summarise a panel: the
# spread of the samples (the mean over time of their standard deviation) and
# their distance to the mean real class-2 series (root mean square).
LABEL = "2"
real = X_train[y_train == LABEL, 0]
real_mean = real.mean(axis=0)

settings = {
    "n_iterations": [1, 4, 10],
    "choice_temperature": [0.0, 1.0, 4.0],
    "guidance_scale": [1.0, 2.0, 4.0],
    "temperature": [1.0, 1.5, 2.0],
}
samples = {}
for name, values in settings.items():
    for value in values:
        generator.set_params(**{name: value})
        start = time.perf_counter()
        X_new, _ = generator.sample(8, y=LABEL, random_state=0)
        seconds = time.perf_counter() - start
        series = X_new[:, 0]
        spread = series.std(axis=0).mean()
        distance = np.sqrt(((series - real_mean) ** 2).mean())
        samples[name, value] = series
        print(
            f"{name}={value:<5} spread {spread:.3f}  distance to real mean {distance:.3f}"
            f"  ({seconds:.2f} s for 8 series)"
        )
    generator.set_params(**{name: defaults[name]})  # back to the default

# %%
# The grid of samples
# -------------------
# One row per parameter, one column per value; the black line is the mean
# real series of class "2", the grey band its range over the real series.
fig, axes = plt.subplots(4, 3, figsize=(11, 10), sharex=True, sharey=True, layout="constrained")
for row, (name, values) in enumerate(settings.items()):
    for col, value in enumerate(values):
        ax = axes[row, col]
        ax.fill_between(np.arange(real.shape[1]), real.min(0), real.max(0), color="0.9")
        ax.plot(samples[name, value].T, color="C1", lw=0.8, alpha=0.8)
        ax.plot(real_mean, color="k", lw=1.5)
        default = " (default)" if value == defaults[name] else ""
        ax.set_title(f"{name}={value}{default}", fontsize="medium")
for ax in axes[-1]:
    ax.set_xlabel("time")
fig.suptitle('ItalyPowerDemand: 8 generated series of class "2" per setting')
plt.show()

# %%
# Reading the grid
# ----------------
# - ``n_iterations`` trades time for coherence: decoding cost grows linearly
#   with the number of steps (the timings above), and a single step chooses
#   every token independently of the others.
# - ``choice_temperature=0`` keeps, at each step, exactly the tokens the model
#   is most confident about; larger values admit less likely tokens.
# - ``guidance_scale`` above 1 sharpens the class: samples move towards the
#   class's typical shape and vary less.
#
# How strong each effect is depends on how well the prior was trained: with
# the few epochs of the documentation build the differences are small and
# noisy; run the script at the full budget to see them clearly. These
# settings are also parameters of :class:`~skncvqvae.NCVQVAEGenerator`'s
# constructor, and ``NCVQVAEGenerator.score`` (negative FID) can select them
# in a ``GridSearchCV``, although a search refits the generator for every
# candidate.
