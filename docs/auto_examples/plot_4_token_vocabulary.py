"""
=====================================
Tokens as a vocabulary
=====================================

The tokenizer turns a series into a small grid of discrete tokens, ids into a
codebook of ``codebook_size`` learned vectors (32 by default): a vocabulary of
time-series shapes. This example looks at that vocabulary on GunPoint:

- the token grid of a series (``encode``),
- how often each token occurs in each class (``output="histogram"``), and a
  bag-of-tokens classifier on those counts,
- what single tokens look like in data space (``decode`` of a grid filled with
  one token id).

The tokenizer trains at the package default budget (``max_epochs="auto"``: 150
epochs on GunPoint). The example runs in under five minutes on 2 CPU cores;
the time measured when this page was rendered is at its bottom.
"""

import matplotlib.pyplot as plt
import numpy as np
from aeon.datasets import load_gunpoint
from sklearn.linear_model import LogisticRegression

from skncvqvae import NCVQVAETokenizer
from skncvqvae.evaluation import plot_codebook_usage

X_train, y_train = load_gunpoint(split="train")
X_test, y_test = load_gunpoint(split="test")
classes = np.unique(y_train)

tokenizer = NCVQVAETokenizer(random_state=0).fit(X_train)

# %%
# The token grid
# --------------
# ``encode`` gives each series a grid of ``(H, W)`` token ids: ``H = n_fft // 2
# + 1 = 5`` frequency rows (the tokenizer works on a short-time Fourier
# transform) and ``W`` time columns. GunPoint's series of length 150 become 5 x 9
# grids, 45 tokens each.
tokens = tokenizer.encode(X_test)
print("token grids:", tokens.shape, "codebook size:", tokenizer.codebook_size)

fig, axes = plt.subplots(2, 3, figsize=(10, 4.2), layout="constrained")
for row, label in enumerate(classes):
    index = np.flatnonzero(y_test == label)[0]
    axes[row, 0].plot(X_test[index, 0], color=f"C{row}")
    axes[row, 0].set_title(f"class {label}: a test series", fontsize="medium")
    image = axes[row, 1].imshow(
        tokens[index], cmap="tab20b", vmin=0, vmax=tokenizer.codebook_size - 1, aspect="auto"
    )
    for (i, j), token in np.ndenumerate(tokens[index]):
        axes[row, 1].text(j, i, token, ha="center", va="center", fontsize=7, color="white")
    axes[row, 1].set_title("its token grid (frequency x time)", fontsize="medium")
    axes[row, 1].set_xlabel("time column")
    axes[row, 1].set_ylabel("frequency row")
    axes[row, 2].plot(X_test[index, 0], color="0.6", label="series")
    axes[row, 2].plot(
        tokenizer.reconstruct(X_test[index : index + 1])[0, 0],
        color=f"C{row}",
        ls="--",
        label="decode(encode(x))",
    )
    axes[row, 2].set_title("decoded from the 45 tokens", fontsize="medium")
    axes[row, 2].legend(fontsize="small")

# %%
# Token histograms per class
# --------------------------
# ``output="histogram"`` makes ``transform`` return, per series, the fraction
# of its grid taken by each token: a bag of tokens, ``(n_cases,
# codebook_size)``. ``set_params`` switches the output of the fitted tokenizer
# without refitting it.
tokenizer.set_params(output="histogram")
H_train = tokenizer.transform(X_train)
H_test = tokenizer.transform(X_test)
print("histograms:", H_test.shape, "rows sum to", H_test.sum(axis=1)[:3])

mean_histogram = {label: H_train[y_train == label].mean(axis=0) for label in classes}
fig, ax = plt.subplots(figsize=(10, 3), layout="constrained")
width = 0.4
for k, label in enumerate(classes):
    ax.bar(
        np.arange(tokenizer.codebook_size) + (k - 0.5) * width,
        mean_histogram[label],
        width=width,
        label=f"class {label}",
    )
ax.set_xlabel("token id")
ax.set_ylabel("mean share of the grid")
ax.set_xticks(np.arange(tokenizer.codebook_size))
ax.legend()
ax.set_title("How often each token occurs, per class (training split)")

# %%
# The histogram ignores *where* a token occurs; it still separates the
# classes to some degree. A logistic regression on the counts:
bag_of_tokens = LogisticRegression(max_iter=1000).fit(H_train, y_train)
print(f"bag-of-tokens test accuracy: {bag_of_tokens.score(H_test, y_test):.3f}")

# %%
# :func:`~skncvqvae.evaluation.plot_codebook_usage` sorts the tokens by
# frequency and reports the perplexity (the effective vocabulary size) and the
# number of tokens used at all. It returns a matplotlib figure;
# ``plt.figure(fig)`` hands it to pyplot (matplotlib >= 3.10).
fig = plot_codebook_usage({"GunPoint test split": H_test.mean(axis=0)})
plt.figure(fig)

# %%
# What single tokens decode to
# ----------------------------
# ``decode`` maps any grid of ids back to a series in data space. A grid
# filled with one id shows the shape that this token stands for, repeated over
# the whole series (plus the decoder's edge effects). Here the six tokens with
# the largest difference in frequency between the two classes; the title says
# which class uses each one more.
difference = mean_histogram[classes[1]] - mean_histogram[classes[0]]
chosen = np.argsort(-np.abs(difference))[:6]
height, width = tokenizer.token_shape_
grids = np.repeat(chosen, height * width).reshape(len(chosen), height, width)
decoded = tokenizer.decode(grids)
print("decoded single-token grids:", decoded.shape)

fig, axes = plt.subplots(2, 3, figsize=(10, 4.2), sharex=True, layout="constrained")
for ax, token, series, diff in zip(axes.ravel(), chosen, decoded, difference[chosen]):
    more = classes[1] if diff > 0 else classes[0]
    ax.plot(series[0], color="C1" if diff > 0 else "C0")
    ax.set_title(f"token {token} (more in class {more})", fontsize="medium")
for ax in axes[-1]:
    ax.set_xlabel("time")
fig.suptitle("decode(grid filled with one token id)")
plt.show()
