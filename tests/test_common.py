"""scikit-learn's estimator checks on every estimator of the package.

One place lists every estimator with its tiny test setting (its own
``_get_test_params()``, as in aeon), in the manner of scikit-learn's own
``test_common.py``.
"""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skncvqvae import NCVQVAEGenerator, NCVQVAETokenizer
from skncvqvae.metrics import FCNClassifier

ESTIMATORS = [
    estimator(**estimator._get_test_params())
    for estimator in (NCVQVAETokenizer, NCVQVAEGenerator, FCNClassifier)
]
# the two-stream model (TimeVQVAE's frequency split), through the generator
ESTIMATORS.append(
    NCVQVAEGenerator(
        **{
            **NCVQVAEGenerator._get_test_params(),
            "tokenizer": NCVQVAETokenizer(**NCVQVAETokenizer._get_test_params(), frequency_split=1),
        }
    )
)

# The checks feed 2D tables with 1 to 5 columns, read as short univariate
# series: the padding warning is expected there (it is tested in test_tokenizer).
pytestmark = pytest.mark.filterwarnings("ignore:Series of length .* are shorter:UserWarning")


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    # scikit-learn's idiom: each check raises (AssertionError, ValueError, ...) on failure.
    check(estimator)
