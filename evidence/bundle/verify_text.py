"""VERIFY.txt: how to check a bundle with standard tools, in Chinese and English."""

from __future__ import annotations

TEMPLATE = """\
如何核对本证据包 / How to check this evidence bundle
==================================================

日志编号 / log id:          {log_id}
签名公钥指纹 / fingerprint: {fingerprint}
树头 / signed head:         size {size}, root {root}, time {signed_at}

【中文】
1. 核对文件哈希：在解压后的文件夹中运行
       sha256sum -c SHA256SUMS
   每一行都应显示"成功/OK"。manifest.json 中也列出了每个文件的大小和 SHA-256。
2. 核对树头签名（OpenSSL 3.0 或更新版本）：
       openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in head.txt -sigfile head.sig
   应显示 "Signature Verified Successfully"。请另行向当事人核实公钥指纹（见上）。
   同一密钥还对清单签了名（清单列出 PDF 等每个文件的哈希，因此 PDF 无法被替换）：
       sha256sum manifest.json; cat manifest.statement.txt
       openssl pkeyutl -verify -pubin -inkey pub.pem -rawin \\
           -in manifest.statement.txt -sigfile manifest.sig
3. 完整核对（每条记录的承诺值、包含证明、Merkle 根、附件哈希）：
       pip install evidence   （或使用任何按 docs/BUNDLE-FORMAT.md 编写的验证程序）
       evidence verify 本文件.zip
   全部成立时退出码为 0；否则逐项列出问题及位置。与同一日志的另一份证据包比对：
       evidence verify 本文件.zip --against 另一份.zip
4. 单条记录可手工核对：entries.jsonl 第 N 行是记录的原始字节，proofs.jsonl 第 N 行
   给出其盐 salt，则
       ( printf 'evidence/commitment/v1\\0'; printf '%s' "$SALT" | xxd -r -p; \\
         sed -n 'Np' entries.jsonl | tr -d '\\n' ) | sha256sum
   应等于该行的 commitment，也等于 commitments.txt 第 seq+1 行。
5. 可信时间戳（RFC 3161，如有）：timestamps.jsonl 每行对应一个第三方时间戳令牌，
   timestamps/N.tsr 是令牌，timestamps/N.head.txt 是它所覆盖的树头文本。用时间戳机构
   （TSA）的根证书核对：
       openssl ts -verify -token_in -in timestamps/N.tsr -data timestamps/N.head.txt \\
           -CAfile TSA根证书.pem
   应显示 "Verification: OK"：该树头所覆盖的全部记录（序号小于 size）不晚于令牌时间已存在。
   该行的 consistency 证明此树头是本证据包树头的前缀（evidence verify 会核对）。
6. evidence.pdf 带有 PAdES 签名，并可能带有文档时间戳（RFC 3161），PDF 阅读器会显示。
   用 TSA 根证书核对其证书链：
       evidence verify 本文件.zip --tsa-root TSA根证书.pem
   不提供 --tsa-root 时报告为“未对照信任锚核对”。
未包含在本证据包中的记录只以加盐承诺值出现在 commitments.txt 中，不泄露任何内容。
evidence.pdf 是上述数据的可读呈现；具有证明力的是 entries.jsonl 与附件原始文件。

[English]
1. File hashes: in the unzipped folder run
       sha256sum -c SHA256SUMS
   Every line must say OK. manifest.json also lists each file's size and SHA-256.
2. The head's signature (OpenSSL 3.0 or later):
       openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in head.txt -sigfile head.sig
   It must print "Signature Verified Successfully". Confirm the key fingerprint above with
   the borrower through another channel. The same key signed the manifest, which lists the
   hash of every file (so the PDF cannot be swapped); the statement names the manifest's hash:
       sha256sum manifest.json; cat manifest.statement.txt
       openssl pkeyutl -verify -pubin -inkey pub.pem -rawin \\
           -in manifest.statement.txt -sigfile manifest.sig
3. Everything (each entry's commitment and inclusion proof, the Merkle root, attachments):
       pip install evidence   (or any verifier written from docs/BUNDLE-FORMAT.md)
       evidence verify this.zip
   Exit code 0 only when everything holds; otherwise every problem is listed with where it
   was found. To check that two bundles of the same log are consistent:
       evidence verify this.zip --against other.zip
4. One entry by hand: line N of entries.jsonl is the entry's exact bytes, line N of
   proofs.jsonl has its salt; then
       ( printf 'evidence/commitment/v1\\0'; printf '%s' "$SALT" | xxd -r -p; \\
         sed -n 'Np' entries.jsonl | tr -d '\\n' ) | sha256sum
   equals that line's commitment and line seq+1 of commitments.txt.
5. Trusted timestamps (RFC 3161, when present): each line of timestamps.jsonl is a third
   party's token; timestamps/N.tsr is the token, timestamps/N.head.txt the head it is over.
   With the time-stamping authority's (TSA's) root certificate:
       openssl ts -verify -token_in -in timestamps/N.tsr -data timestamps/N.head.txt \\
           -CAfile tsa-root.pem
   It must print "Verification: OK": every entry that head covers (seq below its size)
   existed no later than the token's time. The line's consistency proof shows that head is
   a prefix of this bundle's head (evidence verify checks it).
6. evidence.pdf carries a PAdES signature and may carry a document timestamp (RFC 3161);
   PDF readers show both. To check the TSA chains against the TSA's root:
       evidence verify this.zip --tsa-root tsa-root.pem
   Without --tsa-root they are reported as not checked against a trust anchor.
Entries not in this bundle appear only as salted commitments in commitments.txt, which
reveal nothing. evidence.pdf is a readable rendering; what is proven is entries.jsonl and
the original attachment files.
"""


def verify_text(log_id: str, fingerprint: str, size: int, root: str, signed_at: str) -> bytes:
    return TEMPLATE.format(
        log_id=log_id, fingerprint=fingerprint, size=size, root=root, signed_at=signed_at
    ).encode("utf-8")
