"""What each problem means, in English and Chinese (the verdict a lawyer reads)."""

from __future__ import annotations

TITLES: dict[str, tuple[str, str]] = {
    "zip.unreadable": ("not a readable ZIP file", "不是可读取的 ZIP 文件"),
    "zip.too_many": ("too many files in the ZIP", "ZIP 中文件过多"),
    "zip.duplicate": ("two files with the same name", "有同名的重复文件"),
    "zip.unexpected": ("an unexpected entry in the ZIP", "ZIP 中有不应出现的条目"),
    "zip.unsafe_name": ("an unsafe or unexpected file name", "文件名不安全或不应出现"),
    "zip.symlink": ("a symbolic link", "符号链接"),
    "zip.encrypted": ("an encrypted file", "加密的文件"),
    "zip.method": ("an unsupported compression method", "不支持的压缩方式"),
    "zip.bomb": ("a file that expands too much (zip bomb)", "解压后过大的文件（压缩炸弹）"),
    "file.missing": ("a file is missing", "缺少文件"),
    "file.unlisted": ("a file not listed in the manifest", "清单中未列出的文件"),
    "file.size": ("a file's size differs from the manifest", "文件大小与清单不符"),
    "file.hash": ("a file's SHA-256 differs from the manifest", "文件 SHA-256 与清单不符"),
    "file.unreadable": ("a file cannot be read", "文件无法读取"),
    "manifest.invalid": ("the manifest is not valid", "清单（manifest.json）无效"),
    "sums.invalid": ("SHA256SUMS is not valid", "SHA256SUMS 无效"),
    "sums.mismatch": ("SHA256SUMS does not match a file", "SHA256SUMS 与文件不符"),
    "key.invalid": ("the public key is not valid", "公钥无效"),
    "key.mismatch": ("the public key differs from the manifest", "公钥与清单不符"),
    "head.invalid": ("the signed log head is not valid", "签名树头格式无效"),
    "head.mismatch": ("the log head differs from the manifest", "树头与清单不符"),
    "head.signature": ("the head's signature does not verify", "树头签名验证失败"),
    "pdf.signature": ("the PDF's signature does not verify", "PDF 签名验证失败"),
    "pdf.timestamp": ("the PDF's document timestamp does not verify", "PDF 文档时间戳验证失败"),
    "timestamp.invalid": ("a timestamp record is not valid", "时间戳记录无效"),
    "timestamp.head": ("a timestamped head text is not valid", "加盖时间戳的树头文本无效"),
    "timestamp.consistency": (
        "a timestamped head is not a prefix of the bundle's head",
        "加盖时间戳的树头与本证据包的树头不一致",
    ),
    "timestamp.token": ("a timestamp token does not verify", "时间戳令牌验证失败"),
    "tree.invalid": ("the list of commitments is not valid", "承诺值列表无效"),
    "tree.root": (
        "the commitments do not give the signed root",
        "承诺值计算出的根哈希与签名不符",
    ),
    "entry.invalid": ("an entry is not valid", "记录格式无效"),
    "entry.canonical": ("an entry is not in canonical form", "记录不是规范编码"),
    "entry.commitment": ("an entry does not match its commitment", "记录与其承诺值不符"),
    "entry.proof": ("an entry's inclusion proof fails", "记录的包含证明验证失败"),
    "entry.selection": ("the entries differ from the stated selection", "记录与所述选择范围不符"),
    "attachment.missing": ("an attachment is missing", "缺少附件"),
    "attachment.mismatch": (
        "an attachment differs from what the entry committed",
        "附件与记录中承诺的不符",
    ),
    "attachment.unexpected": ("a file no entry refers to", "没有记录引用的附件"),
    "against.log": ("the two bundles are from different logs", "两个证据包来自不同的日志"),
    "against.key": ("the two bundles have different keys", "两个证据包的公钥不同"),
    "against.inconsistent": (
        "the later head does not extend the earlier one",
        "较新的树头不是较早树头的延续",
    ),
    "against.invalid": ("the other bundle does not verify", "对照的证据包本身验证失败"),
}

VERDICT = {
    "en": {
        "ok": "VERIFIED: every check passed.",
        "fail": "NOT VERIFIED: {n} problem(s) found.",
        "entries": "entries disclosed",
        "attachments": "attachments",
        "files": "files checked",
        "log": "log",
        "head": "signed head",
        "fingerprint": "key fingerprint",
        "against": "consistent with",
        "problem": "problem",
        "where": "where",
        "size": "size",
        "time": "signed at",
    },
    "zh": {
        "ok": "验证通过：所有检查均成立。",
        "fail": "验证未通过：发现 {n} 个问题。",
        "entries": "披露的记录",
        "attachments": "附件",
        "files": "已检查文件",
        "log": "日志",
        "head": "签名树头",
        "fingerprint": "公钥指纹",
        "against": "与之一致",
        "problem": "问题",
        "where": "位置",
        "size": "条目数",
        "time": "签名时间",
    },
}


def title(code: str, lang: str) -> str:
    en, zh = TITLES.get(code, (code, code))
    return zh if lang == "zh" else en
