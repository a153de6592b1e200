"""scikit-learn's estimator checks on a tiny NCVQVAETokenizer.

All checks pass; no ``expected_failed_checks``. (One check,
``check_array_api_input``, is skipped by scikit-learn itself unless
``SCIPY_ARRAY_API`` is set.)
"""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from conftest import TINY  # tests/ is on sys.path: rootdir conftest, no __init__.py

from skncvqvae import NCVQVAETokenizer

# The checks feed 2D tables with 1 to 5 columns, read as short univariate
# series: the padding warning is expected there (it is tested in test_tokenizer).
pytestmark = pytest.mark.filterwarnings("ignore:Series of length .* are shorter:UserWarning")


@parametrize_with_checks([NCVQVAETokenizer(**TINY)])
def test_sklearn_compatible_estimator(estimator, check):
    # scikit-learn's idiom: each check raises (AssertionError, ValueError, ...) on failure.
    check(estimator)
