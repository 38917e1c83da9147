"""The bundle verifier: checks a bundle ZIP alone, with the standard library and `cryptography`.

It needs no store, no key and no network, and does not reuse the code that made
the bundle: a lawyer runs it on the ZIP. See docs/BUNDLE-FORMAT.md.
"""

from evidence.verifier.checks import Problem, Report, verify_bundle

__all__ = ["Problem", "Report", "verify_bundle"]
