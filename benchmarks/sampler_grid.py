"""Sampler settings of one fitted generator: FID ratio, IS and CAS per temperature and guidance.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/sampler_grid.py BasicMotions

Fits ``NCVQVAEGenerator(random_state=0)`` at the package defaults on the train split, then,
without refitting, samples 1000 series for each ``choice_temperature`` x ``guidance_scale``
and scores them as the report does (MiniRocket features and classifier fitted on real train
data; FID as a multiple of FID(train, test)).
"""

from __future__ import annotations

import sys
import time

import torch

from skncvqvae import NCVQVAEGenerator
from skncvqvae.evaluation import (
    cas_score,
    fid_score,
    inception_score,
    load_dataset,
    make_classifier,
    make_feature_extractor,
)


def main(name: str) -> None:
    torch.set_num_threads(1)
    X_train, y_train, X_test, y_test = load_dataset(name)
    extractor = make_feature_extractor(X_train, random_state=0)
    classifier = make_classifier(X_train, y_train, random_state=0)
    floor = fid_score(X_test, X_train, feature_extractor=extractor)
    start = time.perf_counter()
    gen = NCVQVAEGenerator(random_state=0, device="cpu").fit(X_train, y_train)
    print(f"fit {time.perf_counter() - start:.0f} s; prior {gen.history_[-1]}", flush=True)
    for temperature in (1.0, 2.0, 4.0):
        for guidance in (1.0, 2.0):
            gen.set_params(choice_temperature=temperature, guidance_scale=guidance)
            X_gen, y_gen = gen.sample(1000, random_state=0)
            head = X_gen[: len(X_test)]
            fid = fid_score(X_test, head, feature_extractor=extractor) / floor
            score = inception_score(head, classifier)
            cas = cas_score(X_gen, y_gen, X_test, y_test, classifier=classifier)
            print(
                f"T={temperature} g={guidance}: FIDx={fid:.2f} IS={score:.3f} CAS={cas:.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "GunPoint")
