"""Meta routes: health, the gateway's public key, release metadata."""
