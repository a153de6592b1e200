"""NC-VQVAE for time series as scikit-learn estimators."""
