"""One-click links of the digest e-mail: signed, single use, expiring."""
