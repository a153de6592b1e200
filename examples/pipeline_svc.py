"""Feature extraction: NC-VQVAE tokens feeding a linear SVM, beside a naive TimeVQVAE.

Run: python examples/pipeline_svc.py  (about two minutes on 2 CPU cores)
"""

from aeon.datasets import load_gunpoint
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

from skncvqvae import NCVQVAETokenizer

X_train, y_train = load_gunpoint(split="train")
X_test, y_test = load_gunpoint(split="test")

for ssl in (None, "vibcreg"):
    model = make_pipeline(
        NCVQVAETokenizer(ssl=ssl, random_state=0, verbose=1),
        MinMaxScaler(),
        SVC(kernel="linear"),
    )
    model.fit(X_train, y_train)  # the tokenizer ignores y: it is self-supervised
    print(f"ssl={ssl!s:12} test accuracy {model.score(X_test, y_test):.3f}")
