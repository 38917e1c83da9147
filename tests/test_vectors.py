"""docs/FORMAT.md's known-answer vectors, recomputed by the code: the spec and the code agree."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from evidence import canonical, crypto, hashing, keyring, merkle, model, timeutil
from evidence.store.blobs import BlobKeys

FORMAT = (Path(__file__).resolve().parent.parent / "docs" / "FORMAT.md").read_text(encoding="utf-8")
VECTORS = FORMAT.split("## 14. Known-answer vectors", 1)[1]
LOG = "11111111-2222-4333-8444-555555555555"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DATA_KEY = bytes(range(0x60, 0x80))
SEED = bytes(range(0xA0, 0xC0))


def row(label: str) -> list[str]:
    """The hex values in the table row that starts with ``label``."""
    line = next(x for x in VECTORS.splitlines() if x.startswith(f"| {label}"))
    return re.findall(r"`([0-9a-f]{16,})`", line)


def fixed_random(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "random_bytes", lambda n: bytes(range(n)))


@pytest.fixture
def documents(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    fixed_random(monkeypatch)
    blob_keys = BlobKeys(DATA_KEY, LOG)
    sha, size = crypto.encrypt_stream(
        blob_keys.content, io.BytesIO(b"hello, evidence\n"), io.BytesIO(), chunk_size=8
    )
    attachment = model.Attachment(sha.hex(), size, "note.txt", "text/plain")
    call = model.make_draft(
        "call",
        datetime(2026, 11, 20, 23, 15, tzinfo=SHANGHAI),
        {
            "number": "95188",
            "direction": "incoming",
            "duration": 95,
            "answered": True,
            "platform": "某贷",
            "said": "说明天去你单位找领导",
            "tags": ["night"],
        },
        attachments=(attachment,),
    )
    sms = model.make_draft(
        "sms",
        datetime(2026, 11, 21, 9, 2, 33, 250000, tzinfo=SHANGHAI),
        {
            "number": "1069012345",
            "direction": "incoming",
            "said": '【某贷】您已逾期，请回电\n"立即"',
        },
    )
    first = model.canonical_document(
        LOG, 0, call, datetime(2026, 11, 28, 8, 0, 1, tzinfo=UTC), "Asia/Shanghai"
    )
    amendment = model.amendment_draft(
        model.entry_from_document(first, b""),
        datetime(2026, 11, 28, 8, 0, 3, tzinfo=UTC),
        {"collector": "王经理 工号 A017"},
        "the caller gave his name in a later call",
        new_time=datetime(2026, 11, 20, 23, 14, tzinfo=SHANGHAI),
    )
    return [
        canonical.encode(first),
        canonical.encode(
            model.canonical_document(
                LOG, 1, sms, datetime(2026, 11, 28, 8, 0, 2, tzinfo=UTC), "Asia/Shanghai"
            )
        ),
        canonical.encode(
            model.canonical_document(
                LOG, 2, amendment, datetime(2026, 11, 28, 8, 0, 4, tzinfo=UTC), "Asia/Shanghai"
            )
        ),
    ]


def test_canonical_bytes_commitments_and_leaves(documents: list[bytes]) -> None:
    blocks = re.findall(r"```json\n(.*?)\n```", VECTORS, flags=re.S)
    assert [b.encode("utf-8") for b in blocks] == documents
    salts = [bytes(range(32 * i, 32 * i + 32)) for i in range(3)]
    commitments = [hashing.commitment(s, d) for s, d in zip(salts, documents, strict=True)]
    assert [c.hex() for c in commitments] == row("commitment")
    assert [hashing.leaf(c).hex() for c in commitments] == row("leaf hash")


def test_tree_proofs_and_signed_head(documents: list[bytes]) -> None:
    salts = [bytes(range(32 * i, 32 * i + 32)) for i in range(3)]
    leaves = [hashing.leaf(hashing.commitment(s, d)) for s, d in zip(salts, documents, strict=True)]
    tree = merkle.Tree(leaves)
    assert row("**root, size 3**") == [tree.root().hex()]
    assert row("frontier after 3 leaves") == [merkle.Frontier.of(leaves).to_bytes().hex()]
    assert row("inclusion of leaf 0 in size 3") == [p.hex() for p in tree.inclusion_proof(0)]
    assert row("consistency size 1 → 3") == [p.hex() for p in tree.consistency_proof(1)]
    head = hashing.Head(
        LOG, 3, tree.root(), timeutil.format_canonical(datetime(2026, 11, 28, 8, 0, 5, tzinfo=UTC))
    )
    text_block = re.search(r"```\n(evidence-log-head/v1\n.*?)```", VECTORS, flags=re.S)
    assert text_block and text_block.group(1).encode("ascii") == head.message()
    signature = re.search(r"Signature: `([0-9a-f]+)`", VECTORS)
    assert signature and signature.group(1) == crypto.sign(SEED, head.message()).hex()
    assert crypto.fingerprint(crypto.public_key_of(SEED)) in VECTORS.replace("\n", " ")


def test_derived_keys_slots_and_blob_file(monkeypatch: pytest.MonkeyPatch) -> None:
    assert row("entry key") == [crypto.derive_subkey(DATA_KEY, "entry", LOG.encode()).hex()]
    assert row("blob-name key") == [BlobKeys(DATA_KEY, LOG).name.hex()]
    assert row("AAD of entry 0") == [hashing.entry_aad(LOG, 0).hex()]
    code = keyring.format_recovery_code(bytes(range(20)))
    assert f"`{code}`" in VECTORS
    fixed_random(monkeypatch)
    sink = io.BytesIO()
    blob_keys = BlobKeys(DATA_KEY, LOG)
    sha, _ = crypto.encrypt_stream(
        blob_keys.content, io.BytesIO(b"hello, evidence\n"), sink, chunk_size=8
    )
    header, record0, record1 = (
        row("header (28 bytes)")[0],
        row("record 0 (chunk `hello, e`, not final)")[0],
        row("record 1 (chunk `vidence\\n`, final)")[0],
    )
    assert sink.getvalue().hex() == header + record0 + record1
    assert row("file name") == [crypto.keyed_hash(blob_keys.name, sha).hex()]
