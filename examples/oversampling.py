"""Class-conditional generation: balance an imbalanced training set with generated series.

Run: python examples/oversampling.py  (a few minutes on 2 CPU cores)
"""

import numpy as np
from aeon.datasets import load_gunpoint

from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer

X, y = load_gunpoint(split="train")
# keep at most 25 series of class "1" and 8 of class "2"
keep = np.r_[np.flatnonzero(y == "1")[:25], np.flatnonzero(y == "2")[:8]]
X, y = X[keep], y[keep]


def counts(labels):
    values, n = np.unique(labels, return_counts=True)
    return dict(zip(values.tolist(), n.tolist()))


print("before:", counts(y))

generator = NCVQVAEGenerator(NCVQVAETokenizer(random_state=0), random_state=0, verbose=1)
X_res, y_res = generator.fit_resample(X, y)
print("after: ", counts(y_res))
assert np.array_equal(X_res[: len(X)], X)  # the real data comes first, unchanged

# new series of one class, reproducible through random_state
X_new, y_new = generator.sample(5, y="2", random_state=1)
print("sampled", X_new.shape, "labels", y_new.tolist())
