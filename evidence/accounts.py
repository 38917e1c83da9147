"""Server accounts: each owns one log; sessions and API tokens each hold a key to it.

No state lives in a process. A session cookie or an API token carries a random
secret; the database keeps only its SHA-256 and the log's data key wrapped by
a key derived from it (a key slot of kind ``session`` or ``token``). Any worker
can therefore serve any request, and a copy of the database alone opens no log.

The password is checked by unwrapping the log's passphrase slot (Argon2id in
:mod:`evidence.crypto`): the slot is the password hash, so there is no second
verifier for a database thief to attack. Unknown names cost the same Argon2id
run and get the same answer as wrong passwords. Attempts are counted in the
database (fixed windows), so limits hold across workers.
"""

from __future__ import annotations

import base64
import hmac
import re
import threading
import time
import unicodedata
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from evidence import crypto, keyring, timeutil
from evidence.errors import Conflict, EvidenceError, InvalidInput, WrongSecret
from evidence.ledger import Log, Store
from evidence.store.engine import WRITE
from evidence.store.schema import accounts, credentials, key_slots, rate_limits

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
NAME_PATTERN = r"^[\w.@+\-]{3,64}$"  # after NFC, trimming and case folding
MAX_LABEL = 200
LABEL_PATTERN = "^[^\u0000-\u001f\u007f-\u009f]*$"
_CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f]")
_NAME = re.compile(NAME_PATTERN)
_TOKEN = re.compile(r"^ev([st])_([0-9a-f]{32})\.([A-Za-z0-9_\-]{43})$")
_PREFIX = {keyring.SESSION: "s", keyring.TOKEN: "t"}
SIGN_IN_FAILED = "wrong name or password"
UNLOCKED_CACHE_SIZE = 64
UNLOCKED_CACHE_SECONDS = 60.0


class RateLimited(EvidenceError):
    """Too many attempts from one client or at one account: wait and try again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    """Attempts allowed per window: per client address and per account name."""

    per_client: int = 30
    per_name: int = 10
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Account:
    id: str
    log_id: str


@dataclass(frozen=True)
class Credential:
    """A session or an API token, as listed (the secret is never stored or shown again)."""

    id: str
    kind: str
    label: str | None
    created_at: datetime
    expires_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "created_at": timeutil.format_canonical(self.created_at),
            "expires_at": timeutil.format_canonical(self.expires_at),
        }


@dataclass(frozen=True)
class Issued:
    """A new session or token: the secret string goes to the client once."""

    account: Account
    log: Log
    credential: Credential
    secret: str


def normalize_name(name: str) -> str:
    if not isinstance(name, str):
        raise InvalidInput("the name must be text")
    text = unicodedata.normalize("NFC", name).strip().casefold()
    if not _NAME.match(text):
        raise InvalidInput(
            "a name is 3 to 64 letters, digits or . _ - + @ (avoid your phone number)"
        )
    return text


def check_password(password: str) -> str:
    if not isinstance(password, str):
        raise InvalidInput("the password must be text")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"a password is at least {MIN_PASSWORD} characters")
    crypto.normalize_passphrase(password)
    return password


def _name_hash(name: str) -> bytes:
    return crypto.sha256(b"evidence/account-name\x00" + normalize_name(name).encode("utf-8"))


class Accounts:
    """Sign-up, sign-in, sessions, tokens and passwords over a :class:`Store`."""

    def __init__(
        self,
        store: Store,
        kdf: Callable[[], crypto.KdfParams] = crypto.KdfParams.fresh,
        session_ttl: timedelta = timedelta(hours=12),
        token_ttl: timedelta = timedelta(days=365),
        limits: Limits | None = None,
    ) -> None:
        self.store = store
        self.kdf = kdf
        self.ttl = {keyring.SESSION: session_ttl, keyring.TOKEN: token_ttl}
        self.limits = limits or Limits()
        self._unlocked = _UnlockedLogs(UNLOCKED_CACHE_SIZE, UNLOCKED_CACHE_SECONDS)

    def _now_us(self) -> int:
        return timeutil.to_micros(self.store.clock())

    # --- rate limits --------------------------------------------------------------------------

    def throttle(self, scope: str, client: str, name: str | None = None) -> None:
        """Count one attempt; raise :class:`RateLimited` when a window is full."""
        keys = [(f"{scope}/client/{client}", self.limits.per_client)]
        if name is not None:
            keys.append((f"{scope}/name/{name}", self.limits.per_name))
        for key, limit in keys:
            self._hit(crypto.sha256(key.encode("utf-8")), limit)

    def _hit(self, key: bytes, limit: int) -> None:
        window = int(self.limits.window.total_seconds() * 1_000_000)
        now = self._now_us()
        for _attempt in range(3):
            try:
                with self.store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
                    row = conn.execute(
                        select(rate_limits).where(rate_limits.c.key == key).with_for_update()
                    ).first()
                    if row is None:
                        conn.execute(
                            insert(rate_limits).values(key=key, window_start_us=now, count=1)
                        )
                        return
                    if now - row.window_start_us >= window:
                        start, count = now, 1
                    else:
                        start, count = row.window_start_us, row.count + 1
                    if count > limit:
                        wait = (row.window_start_us + window - now) // 1_000_000 + 1
                        raise RateLimited("too many attempts: wait a while and try again", wait)
                    conn.execute(
                        rate_limits.update()
                        .where(rate_limits.c.key == key)
                        .values(window_start_us=start, count=count)
                    )
                    return
            except IntegrityError:  # another worker inserted the same key first
                continue
        raise RateLimited("too many attempts at once: try again", 1)

    # --- accounts -----------------------------------------------------------------------------

    def sign_up(self, name: str, password: str, zone: str = timeutil.DEFAULT_ZONE) -> str:
        """Create an account and its log; return the log's recovery code (shown once)."""
        name_hash = _name_hash(name)
        check_password(password)
        with self.store.engine.connect() as conn:
            taken = conn.execute(
                select(accounts.c.id).where(accounts.c.name_hash == name_hash)
            ).first()
        if taken:
            raise Conflict("choose another name")
        log, code = self.store.create_log(password, zone=zone, kdf=self.kdf())
        try:
            with self.store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
                conn.execute(
                    insert(accounts).values(
                        id=str(uuid.uuid4()),
                        name_hash=name_hash,
                        log_id=log.log_id,
                        created_us=self._now_us(),
                    )
                )
        except IntegrityError as exc:  # the same name, signed up at the same moment
            raise Conflict("choose another name") from exc
        return code

    def _account_by_name(self, name_hash: bytes) -> Account | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.name_hash == name_hash)).first()
        return Account(row.id, row.log_id) if row else None

    def sign_in(self, name: str, password: str, kind: str, label: str | None = None) -> Issued:
        """Check the password and issue a session or a token."""
        try:
            name_hash = _name_hash(name)
            check_password(password)
        except InvalidInput as exc:
            raise WrongSecret(SIGN_IN_FAILED) from exc
        account = self._account_by_name(name_hash)
        if account is None:
            # The same Argon2id work as a real account, then the same answer.
            crypto.derive_passphrase_key(password, self.kdf())
            raise WrongSecret(SIGN_IN_FAILED)
        try:
            log = self.store.unlock(account.log_id, password)
        except WrongSecret as exc:
            raise WrongSecret(SIGN_IN_FAILED) from exc
        return self.issue(account, log, kind, label)

    def issue(self, account: Account, log: Log, kind: str, label: str | None = None) -> Issued:
        if label is not None and (
            not isinstance(label, str) or len(label) > MAX_LABEL or _CONTROL.search(label)
        ):
            # Control characters too: PostgreSQL refuses NUL in text (found by schemathesis).
            raise InvalidInput(
                f"a token label is text of at most {MAX_LABEL} characters, no control characters"
            )
        secret = crypto.random_bytes(keyring.SECRET_BYTES)
        slot_id = log.add_secret_slot(kind, secret)
        now = self._now_us()
        expires = now + int(self.ttl[kind].total_seconds() * 1_000_000)
        try:
            with self.store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
                conn.execute(
                    insert(credentials).values(
                        id=slot_id,
                        account_id=account.id,
                        kind=kind,
                        label=label,
                        secret_hash=crypto.sha256(secret),
                        created_us=now,
                        expires_us=expires,
                    )
                )
        except Exception:
            self.store.revoke_secret_slots(account.log_id, [slot_id])
            raise
        text = base64.urlsafe_b64encode(secret).decode("ascii").rstrip("=")
        credential = Credential(
            slot_id, kind, label, timeutil.from_micros(now), timeutil.from_micros(expires)
        )
        return Issued(
            account, log, credential, f"ev{_PREFIX[kind]}_{uuid.UUID(slot_id).hex}.{text}"
        )

    def authenticate(self, token: str, kind: str) -> tuple[Account, Log, Credential]:
        """The account, its unlocked log and the credential a session cookie or token names."""
        invalid = WrongSecret(f"this {kind} is not valid or has expired: sign in again")
        match = _TOKEN.match(token or "")
        if not match or match.group(1) != _PREFIX[kind]:
            raise invalid
        slot_id = str(uuid.UUID(match.group(2)))
        secret = base64.urlsafe_b64decode(match.group(3) + "=")
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(credentials, accounts.c.log_id)
                .join(accounts, accounts.c.id == credentials.c.account_id)
                .where(credentials.c.id == slot_id, credentials.c.kind == kind)
            ).first()
        if row is None or not hmac.compare_digest(row.secret_hash, crypto.sha256(secret)):
            raise invalid
        if row.expires_us <= self._now_us():
            self._delete(row.log_id, [slot_id])
            raise invalid
        # The row just read proves the credential is live and the secret right; only the
        # unwrapping of the log's keys is reused from an earlier request (revocation, expiry
        # and password changes delete or outdate the row, so they take effect at once).
        log = self._unlocked.get(slot_id, row.secret_hash)
        if log is None:
            try:
                log = self.store.unlock_with_secret(row.log_id, slot_id, secret)
            except WrongSecret as exc:
                raise invalid from exc
            self._unlocked.put(slot_id, row.secret_hash, log)
        credential = Credential(
            row.id,
            row.kind,
            row.label,
            timeutil.from_micros(row.created_us),
            timeutil.from_micros(row.expires_us),
        )
        return Account(row.account_id, row.log_id), log, credential

    def credentials(self, account: Account, kind: str) -> list[Credential]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(credentials)
                .where(credentials.c.account_id == account.id, credentials.c.kind == kind)
                .order_by(credentials.c.created_us, credentials.c.id)
            ).all()
        return [
            Credential(
                r.id,
                r.kind,
                r.label,
                timeutil.from_micros(r.created_us),
                timeutil.from_micros(r.expires_us),
            )
            for r in rows
        ]

    def revoke(self, account: Account, credential_id: str, kind: str | None = None) -> None:
        """Revoke one of the account's own sessions or tokens (any other id: not found)."""
        from evidence.errors import NotFound

        with self.store.engine.connect() as conn:
            query = select(credentials.c.id).where(
                credentials.c.id == credential_id, credentials.c.account_id == account.id
            )
            if kind is not None:
                query = query.where(credentials.c.kind == kind)
            found = conn.execute(query).first()
        if found is None:
            raise NotFound("no such token")
        self._delete(account.log_id, [credential_id])

    def _delete(self, log_id: str, ids: list[str]) -> None:
        self._unlocked.drop(ids)
        with self.store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(credentials.delete().where(credentials.c.id.in_(ids)))
            conn.execute(
                key_slots.delete().where(
                    key_slots.c.log_id == log_id,
                    key_slots.c.id.in_(ids),
                    key_slots.c.kind.in_(keyring.SECRET_KINDS),
                )
            )

    def change_password(
        self, account: Account, log: Log, old: str, new: str, keep: str | None = None
    ) -> None:
        """Rewrap under a new password and end every other session and token."""
        check_password(new)
        try:
            self.store.unlock(account.log_id, old)
        except WrongSecret as exc:
            raise WrongSecret("the current password is wrong") from exc
        log.change_passphrase(new, self.kdf())
        others = [
            c.id
            for kind in keyring.SECRET_KINDS
            for c in self.credentials(account, kind)
            if c.id != keep
        ]
        if others:
            self._delete(account.log_id, others)


class _UnlockedLogs:
    """A small, short-lived cache of logs unlocked by a session or token, in one process.

    Keyed by the credential's id and its stored secret hash, and consulted only after
    the credential's row has been read and the secret checked against it, so it never
    decides who gets in: it saves re-reading the key slot and re-deriving the log's keys
    (a few milliseconds per request). Keys live in memory only, as in any unlocked
    :class:`Log`; entries expire after ``seconds`` and the oldest go beyond ``size``.
    Another process simply unlocks the log itself.
    """

    def __init__(self, size: int, seconds: float) -> None:
        self.size = size
        self.seconds = seconds
        self._logs: OrderedDict[str, tuple[float, bytes, Log]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, credential_id: str, secret_hash: bytes) -> Log | None:
        with self._lock:
            found = self._logs.get(credential_id)
            if found is None:
                return None
            stamp, stored_hash, log = found
            if time.monotonic() - stamp > self.seconds or not hmac.compare_digest(
                stored_hash, secret_hash
            ):
                del self._logs[credential_id]
                return None
            self._logs.move_to_end(credential_id)
            return log

    def put(self, credential_id: str, secret_hash: bytes, log: Log) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._logs[credential_id] = (time.monotonic(), secret_hash, log)
            self._logs.move_to_end(credential_id)
            while len(self._logs) > self.size:
                self._logs.popitem(last=False)

    def drop(self, credential_ids: list[str]) -> None:
        with self._lock:
            for credential_id in credential_ids:
                self._logs.pop(credential_id, None)
