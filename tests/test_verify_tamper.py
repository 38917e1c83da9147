"""Every file of a bundle, changed in every way: the verifier fails and names the problem."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from evidence.bundle import Options, build_bundle
from evidence.ledger import Store
from evidence.verifier import verify_bundle
from tests.bundlefixtures import codes, populate, rewrite
from tests.conftest import PASSPHRASE, FakeClock, cheap_kdf


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One bundle for every tamper test (the verifier does not depend on the database)."""
    folder = tmp_path_factory.mktemp("bundle")
    store = Store.open(f"sqlite:///{folder / 'e.sqlite3'}", folder / "blobs", clock=FakeClock())
    log, _ = store.create_log(PASSPHRASE, kdf=cheap_kdf())
    populate(log)
    build_bundle(log, folder / "case.zip", Options(platforms=("京东金条",)))
    store.close()
    assert verify_bundle(folder / "case.zip").ok
    return folder / "case.zip"


def _members(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


MEMBERS = [
    "evidence.pdf", "VERIFY.txt", "manifest.json", "manifest.statement.txt", "manifest.sig",
    "SHA256SUMS", "head.txt", "head.sig",
    "pub.pem", "entries.jsonl", "proofs.jsonl", "commitments.txt", "entries.csv",
    "attachments/1-2_rec.m4a", "attachments/2-2_截图_1_.png",
]  # fmt: skip


def test_members_are_the_ones_tested(bundle: Path) -> None:
    assert sorted(_members(bundle)) == sorted(MEMBERS)


def _flip(data: bytes, at: int | None = None) -> bytes:
    i = len(data) // 2 if at is None else at
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]


@pytest.mark.parametrize("name", MEMBERS)
def test_one_byte_changed(bundle: Path, tmp_path: Path, name: str) -> None:
    data = _members(bundle)[name]
    report = verify_bundle(rewrite(bundle, tmp_path / "t.zip", change={name: _flip(data)}))
    assert not report.ok
    assert any(name in p.where or name in p.detail for p in report.problems), report.problems


@pytest.mark.parametrize("name", MEMBERS)
def test_truncated(bundle: Path, tmp_path: Path, name: str) -> None:
    data = _members(bundle)[name]
    report = verify_bundle(
        rewrite(bundle, tmp_path / "t.zip", change={name: data[: len(data) // 2]})
    )
    assert not report.ok
    assert any(name in p.where or name in p.detail for p in report.problems), report.problems


@pytest.mark.parametrize("name", MEMBERS)
def test_removed(bundle: Path, tmp_path: Path, name: str) -> None:
    report = verify_bundle(rewrite(bundle, tmp_path / "t.zip", change={name: None}))
    assert not report.ok
    assert any(p.where == name or p.code.endswith("missing") for p in report.problems)


@pytest.mark.parametrize("name", MEMBERS)
def test_renamed(bundle: Path, tmp_path: Path, name: str) -> None:
    new = name.replace(".", "-renamed.", 1) if "." in name else name + "-renamed"
    report = verify_bundle(rewrite(bundle, tmp_path / "t.zip", rename={name: new}))
    assert not report.ok
    wheres = {p.where for p in report.problems}
    assert new in wheres or name in wheres, report.problems


def test_added_file(bundle: Path, tmp_path: Path) -> None:
    report = verify_bundle(rewrite(bundle, tmp_path / "t.zip", add={"extra.txt": b"hello"}))
    assert {"zip.unsafe_name"} <= codes(report) or {"file.unlisted"} <= codes(report)
    report = verify_bundle(
        rewrite(bundle, tmp_path / "u.zip", add={"attachments/9-9_x.png": b"x"}, fix_hashes=True)
    )
    assert "attachment.unexpected" in codes(report)


def test_forged_entry_with_fixed_hashes_fails_its_commitment(bundle: Path, tmp_path: Path):
    entries = _members(bundle)["entries.jsonl"]
    forged = entries.replace("说明天去你单位找领导".encode(), "说明天去你单位找领号".encode())
    report = verify_bundle(
        rewrite(bundle, tmp_path / "t.zip", change={"entries.jsonl": forged}, fix_hashes=True)
    )
    assert codes(report) == {"manifest.signature", "entry.commitment"}
    assert "entries.jsonl:1" in [p.where for p in report.problems]


def test_forged_commitment_of_an_excluded_entry_fails_the_root(bundle: Path, tmp_path: Path):
    lines = _members(bundle)["commitments.txt"].split(b"\n")
    lines[2] = b"0" * 64  # entry 2 (美团) is not disclosed
    report = verify_bundle(
        rewrite(
            bundle,
            tmp_path / "t.zip",
            change={"commitments.txt": b"\n".join(lines)},
            fix_hashes=True,
        )
    )
    assert codes(report) == {"manifest.signature", "tree.root"}


def test_forged_head_with_fixed_hashes_fails_the_signature(bundle: Path, tmp_path: Path) -> None:
    head = _members(bundle)["head.txt"].replace(b"time 2026", b"time 2025")
    manifest = json.loads(_members(bundle)["manifest.json"])
    manifest["head"]["signed_at"] = manifest["head"]["signed_at"].replace("2026", "2025")
    report = verify_bundle(
        rewrite(bundle, tmp_path / "t.zip", fix_hashes=True,
                change={"head.txt": head, "manifest.json": json.dumps(manifest).encode()})
    )  # fmt: skip
    assert codes(report) == {"manifest.signature", "head.signature"}


def test_signature_replaced(bundle: Path, tmp_path: Path) -> None:
    sig = _members(bundle)["head.sig"]
    report = verify_bundle(
        rewrite(bundle, tmp_path / "t.zip", change={"head.sig": _flip(sig, 0)}, fix_hashes=True)
    )
    assert codes(report) == {"manifest.signature", "head.signature", "head.mismatch"}


def test_another_key_is_noticed(bundle: Path, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    report = verify_bundle(
        rewrite(bundle, tmp_path / "t.zip", change={"pub.pem": pem}, fix_hashes=True)
    )
    assert {"key.mismatch", "head.signature"} <= codes(report)


def test_manifest_selection_lie_is_noticed(bundle: Path, tmp_path: Path) -> None:
    manifest = json.loads(_members(bundle)["manifest.json"])
    manifest["selection"]["platforms"] = ["美团"]
    report = verify_bundle(
        rewrite(bundle, tmp_path / "t.zip", fix_hashes=True,
                change={"manifest.json": json.dumps(manifest, ensure_ascii=False).encode()})
    )  # fmt: skip
    assert codes(report) == {"manifest.signature", "entry.selection"}


def test_attachment_swapped_with_fixed_hashes(bundle: Path, tmp_path: Path) -> None:
    report = verify_bundle(
        rewrite(
            bundle,
            tmp_path / "t.zip",
            change={"attachments/1-2_rec.m4a": b"other audio"},
            fix_hashes=True,
        )
    )
    assert codes(report) == {"manifest.signature", "attachment.mismatch"}
    assert "attachments/1-2_rec.m4a" in [p.where for p in report.problems]


def test_forged_pdf_with_every_hash_fixed_fails_the_manifest_signature(
    bundle: Path, tmp_path: Path
) -> None:
    """A forger rewrites the PDF, manifest, SHA256SUMS and statement; the key is out of reach."""
    pdf = _members(bundle)["evidence.pdf"].replace(b"%PDF-1.4", b"%PDF-1.4\n% forged", 1)
    manifest = json.loads(_members(bundle)["manifest.json"])
    manifest["selection"]["borrower"] = "someone else"
    report = verify_bundle(
        rewrite(bundle, tmp_path / "t.zip", fix_hashes=True,
                change={"evidence.pdf": pdf, "manifest.json": json.dumps(manifest).encode()})
    )  # fmt: skip
    # With pyHanko installed, the PDF's own PAdES signature fails as well (pdf.signature).
    assert codes(report) - {"pdf.signature"} == {"manifest.signature"}
    assert report.problems[0].where == "manifest.sig"


def test_statement_for_another_manifest_is_refused(bundle: Path, tmp_path: Path) -> None:
    members = _members(bundle)
    statement = members["manifest.statement.txt"].replace(b"manifest-sha256 ", b"manifest-sha256 0")
    report = verify_bundle(
        rewrite(
            bundle, tmp_path / "t.zip", change={"manifest.statement.txt": statement[:-2] + b"\n"}
        )
    )
    assert "manifest.statement" in codes(report)
