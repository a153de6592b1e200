"""Hyperparameter search over a Pipeline with the tokenizer, in parallel.

Run: python examples/grid_search.py  (a few minutes on 2 CPU cores)
"""

from aeon.datasets import load_italy_power_demand
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

from skncvqvae import NCVQVAETokenizer

X, y = load_italy_power_demand(split="train")
pipe = Pipeline(
    [
        ("tokenizer", NCVQVAETokenizer(max_epochs=100, random_state=0)),
        ("scale", MinMaxScaler()),
        ("svc", SVC(kernel="linear")),
    ]
)
search = GridSearchCV(
    pipe,
    {"tokenizer__ssl": [None, "barlowtwins", "vibcreg"], "svc__C": [0.1, 1.0]},
    cv=3,
    n_jobs=2,
)
search.fit(X, y)
print("best", search.best_params_, f"cv accuracy {search.best_score_:.3f}")
X_test, y_test = load_italy_power_demand(split="test")
print(f"test accuracy {search.score(X_test, y_test):.3f}")
