"""evidence: an encrypted, tamper-evident log of debt-collection harassment.

The core library. It imports neither Flask nor click, and keeps heavy imports
(SQLAlchemy, phonenumbers) inside the modules that need them, so front ends
can start fast.
"""

__version__ = "0.1.0"
