"""The evidence index (证据目录): numbered items grouped by kind, and the attachment file names.

Group *g* holds one kind of event. Item *g*-1 is the log's records of that kind;
items *g*-2, *g*-3 … are the distinct files attached to them (an amendment's
files count for the entry it corrects). The last group is the integrity
material. Each attachment is stored in the ZIP as
``attachments/<g>-<i>_<original name>``, so the index number leads to the file.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from evidence.bundle.labels import KIND_GROUP, label
from evidence.bundle.selection import Selection
from evidence.model import Attachment, Entry

_PURPOSE = {
    "call": (
        "证明催收方于所列时间、以所列号码来电催收的次数、时段及通话内容",
        "The dates, times, numbers and content of the collection calls",
    ),
    "sms": (
        "证明催收方发送催收短信的时间、号码及内容",
        "The dates, senders and text of the collection SMS",
    ),
    "message": (
        "证明催收方通过即时通讯等发送的消息内容",
        "The content of messages sent by the collectors (IM and apps)",
    ),
    "contact": (
        "证明催收方联系借款人的亲友、同事等第三人（爆通讯录）",
        "That the collectors contacted the borrower's family, friends or employer",
    ),
    "visit": (
        "证明催收方上门催收的时间、地点及经过",
        "The time, place and course of collection visits",
    ),
    "letter": (
        "证明催收方寄送信函（含所谓律师函、法院通知）的情况",
        "The letters sent by the collectors (including alleged lawyer's letters)",
    ),
    "other": ("证明其他催收行为", "Other collection conduct"),
}
_NAMES = {
    "image": ("截图/照片", "screenshot/photo"),
    "audio": ("录音", "recording"),
    "video": ("录像", "video"),
}


@dataclass
class Item:
    number: str
    name: str
    source: str
    purpose: str
    anchor: str  # which pages the 页码 column shows
    attachment: Attachment | None = None
    path: str = ""
    entries: list[int] = field(default_factory=list)


def safe_file_name(name: str, limit: int = 80) -> str:
    """Letters, digits, '.', '-' and '_' only (any script); never a path or a dot file."""
    name = unicodedata.normalize("NFC", name)
    cleaned = "".join(c if (c.isalnum() or c in "._-") else "_" for c in name)
    cleaned = re.sub(r"_+", "_", cleaned).strip("._") or "attachment"
    if len(cleaned) > limit:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = (
            (stem[: limit - len(ext) - 1] + "." + ext)
            if dot and len(ext) < 10
            else (cleaned[:limit])
        )
    return cleaned


def _owner(entry: Entry) -> int:
    return entry.target if entry.target is not None else entry.seq


def build(selection: Selection, lang: str, zone_text: str) -> list[Item]:
    zh = lang == "zh"
    events = {e.seq: e for e in selection.events}
    items: list[Item] = []
    kinds = sorted({e.kind for e in events.values()}, key=lambda k: KIND_GROUP[k])
    attachments: dict[str, list[tuple[Attachment, int]]] = {k: [] for k in kinds}
    seen: dict[str, Item] = {}
    for entry in selection.entries:
        owner = events.get(_owner(entry))
        if owner is None:
            continue
        for attachment in entry.attachments:
            attachments[owner.kind].append((attachment, entry.seq))
    for group, kind in enumerate(kinds, start=1):
        of_kind = [e for e in events.values() if e.kind == kind]
        first = min(e.occurred_at for e in of_kind).strftime("%Y-%m-%d")
        last = max(e.occurred_at for e in of_kind).strftime("%Y-%m-%d")
        kind_name = label(f"kind.{kind}", lang)
        items.append(
            Item(
                f"{group}-1",
                (
                    f"{kind_name}记录 {len(of_kind)} 条（{first} 至 {last}）"
                    if zh
                    else f"{len(of_kind)} {kind_name} record(s), {first} to {last}"
                ),
                (
                    "本人记录的电子证据日志（ZIP 内 entries.jsonl，逐条可验证）"
                    if zh
                    else "The borrower's evidence log (entries.jsonl in the ZIP, each verifiable)"
                ),
                _PURPOSE[kind][0 if zh else 1],
                f"kind:{kind}",
                entries=[e.seq for e in of_kind],
            )
        )
        number = 1
        for attachment, seq in attachments[kind]:
            if attachment.sha256 in seen:
                seen[attachment.sha256].entries.append(seq)
                continue
            number += 1
            item_no = f"{group}-{number}"
            path = f"attachments/{item_no}_{safe_file_name(attachment.name)}"
            major = attachment.media_type.split("/")[0]
            what = _NAMES.get(major, ("文件", "file"))[0 if zh else 1]
            item = Item(
                item_no,
                f"{what} {attachment.name}",
                (
                    f"记录 #{seq} 的附件，原始文件：ZIP 内 {path}"
                    if zh
                    else f"attached to entry #{seq}; original file {path} in the ZIP"
                ),
                _PURPOSE[kind][0 if zh else 1],
                f"att:{attachment.sha256}",
                attachment,
                path,
                [seq],
            )
            seen[attachment.sha256] = item
            items.append(item)
    group = len(kinds) + 1
    items.append(
        Item(
            f"{group}-1",
            "电子证据日志签名树头、公钥及校验说明"
            if zh
            else "Signed log head, public key and how to verify",
            "ZIP 内 head.txt、head.sig、pub.pem、manifest.json、VERIFY.txt"
            if zh
            else "head.txt, head.sig, pub.pem, manifest.json, VERIFY.txt in the ZIP",
            "证明上述记录及附件自记录以来未被修改"
            if zh
            else "That the records and files are unaltered since they were recorded",
            "integrity",
        )
    )
    return items
