"""The tables. Everything sensitive is sealed; see docs/SECURITY.md for what stays clear.

Entries and heads are append-only: the migrations add triggers that refuse
UPDATE and DELETE on them, and no code in the project issues either.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class LogRow(Base):
    """One evidence log: its zone, its public key and its sealed signing key."""

    __tablename__ = "logs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_us: Mapped[int] = mapped_column(BigInteger)
    zone: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    signing_key_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    format_version: Mapped[int] = mapped_column(Integer)


class KeySlotRow(Base):
    """The log's data key, wrapped by one secret (passphrase, recovery code, session…)."""

    __tablename__ = "key_slots"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    kdf: Mapped[str | None] = mapped_column(Text, nullable=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_us: Mapped[int] = mapped_column(BigInteger)


class EntryRow(Base):
    """One sealed entry. Only its place, its two instants and its commitment are clear."""

    __tablename__ = "entries"

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_us: Mapped[int] = mapped_column(BigInteger)
    recorded_us: Mapped[int] = mapped_column(BigInteger)
    commitment: Mapped[bytes] = mapped_column(LargeBinary)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    dedup: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    __table_args__ = (
        Index("ix_entries_log_occurred", "log_id", "occurred_us"),
        # Digests under each log's own key: unique across the store (migration 0004).
        Index("ux_entries_dedup", "dedup", unique=True),
    )


class HeadRow(Base):
    """A signed tree head; every one is kept so any past head can be proven a prefix."""

    __tablename__ = "heads"

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    signed_at: Mapped[str] = mapped_column(String(40))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    frontier: Mapped[bytes] = mapped_column(LargeBinary)


class AnalysisBlockRow(Base):
    """A sealed block of what analysis reads from a run of entries (migration 0005).

    Derived from the entries and rebuilt from them whenever it does not open: never
    evidence itself, never in a backup or a bundle.
    """

    __tablename__ = "analysis_blocks"

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    block: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


logs = LogRow.__table__
key_slots = KeySlotRow.__table__
entries = EntryRow.__table__
heads = HeadRow.__table__
analysis_blocks = AnalysisBlockRow.__table__


class AccountRow(Base):
    """A server account (migration 0003): it owns one log. The name is kept only hashed."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), unique=True)
    created_us: Mapped[int] = mapped_column(BigInteger)


class CredentialRow(Base):
    """A live session or API token: its id is its key slot's id; only the secret's hash."""

    __tablename__ = "credentials"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(Text, nullable=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary)
    created_us: Mapped[int] = mapped_column(BigInteger)
    expires_us: Mapped[int] = mapped_column(BigInteger)


class RateLimitRow(Base):
    """Attempts per key (a hash of a client address or account name) in a fixed window."""

    __tablename__ = "rate_limits"

    key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    window_start_us: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(Integer)


accounts = AccountRow.__table__
credentials = CredentialRow.__table__
rate_limits = RateLimitRow.__table__
