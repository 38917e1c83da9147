"""Interface text in Chinese (the default) and English. Evidence itself is never translated."""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "app": {"zh": "催收证据记录", "en": "Collection evidence log"},
    "quick_exit": {"zh": "快速离开", "en": "Quick exit"},
    "signin": {"zh": "登录", "en": "Sign in"},
    "signup": {"zh": "注册", "en": "Sign up"},
    "signout": {"zh": "退出", "en": "Sign out"},
    "name": {"zh": "用户名（不要用手机号）", "en": "Name (not your phone number)"},
    "password": {"zh": "密码（至少 8 位）", "en": "Password (at least 8 characters)"},
    "password2": {"zh": "再输一次密码", "en": "Password again"},
    "passwords_differ": {"zh": "两次输入的密码不一样", "en": "The two passwords differ"},
    "signin_failed": {"zh": "用户名或密码不对", "en": "Wrong name or password"},
    "rate_limited": {
        "zh": "尝试次数太多，请过一会儿再试",
        "en": "Too many attempts: wait a while and try again",
    },
    "no_account": {"zh": "还没有账号？注册", "en": "No account yet? Sign up"},
    "have_account": {"zh": "已有账号？登录", "en": "Have an account? Sign in"},
    "recovery_title": {"zh": "请抄下恢复码", "en": "Write down your recovery code"},
    "recovery_text": {
        "zh": "忘记密码时，只有这个恢复码能打开你的记录。"
        "它只显示这一次，请抄在纸上，放在安全的地方。",
        "en": "If you forget your password, only this code opens your log. "
        "It is shown once: write it on paper and keep it safe.",
    },
    "continue": {"zh": "我已抄好，开始记录", "en": "I wrote it down: start logging"},
    "new_entry": {"zh": "记录刚才发生的事", "en": "Log what just happened"},
    "timeline": {"zh": "时间线", "en": "Timeline"},
    "stats": {"zh": "统计", "en": "Statistics"},
    "stats_events": {"zh": "记录的事件", "en": "Events recorded"},
    "stats_night": {"zh": "夜间（22:00–08:00）", "en": "At night (22:00–08:00)"},
    "stats_days": {"zh": "涉及天数", "en": "Days with events"},
    "stats_numbers": {"zh": "不同号码", "en": "Distinct numbers"},
    "stats_by_day": {"zh": "最近 31 天每日次数", "en": "Per day, last 31 days"},
    "stats_by_platform": {"zh": "按平台", "en": "By platform"},
    "stats_by_kind": {"zh": "按类型", "en": "By kind"},
    "stats_top_numbers": {"zh": "来电最多的号码", "en": "Numbers that called most"},
    "stats_third_parties": {"zh": "被联系的第三人", "en": "Third parties contacted"},
    "stats_retracted": {"zh": "已撤回的不计入", "en": "Retracted entries are not counted"},
    "change_password": {"zh": "修改密码", "en": "Change password"},
    "kind": {"zh": "类型", "en": "Kind"},
    "number": {"zh": "号码 / 对方", "en": "Number / who"},
    "when": {"zh": "时间", "en": "Time"},
    "platform": {"zh": "平台（哪家贷款）", "en": "Platform (which lender)"},
    "said": {"zh": "对方说了什么", "en": "What was said"},
    "attachment": {"zh": "截图 / 录音（拍照或选文件）", "en": "Screenshot / recording"},
    "save": {"zh": "保存", "en": "Save"},
    "saved": {"zh": "已保存，已签名", "en": "Saved and signed"},
    "entries_so_far": {"zh": "已记录条数", "en": "Entries so far"},
    "filter": {"zh": "筛选", "en": "Filter"},
    "all": {"zh": "全部", "en": "All"},
    "since": {"zh": "从（日期）", "en": "From (date)"},
    "until": {"zh": "到（日期）", "en": "To (date)"},
    "nothing": {"zh": "还没有记录", "en": "Nothing logged yet"},
    "recorded": {"zh": "记录于", "en": "Recorded"},
    "attachments": {"zh": "附件", "en": "Attachments"},
    "download": {"zh": "下载", "en": "Download"},
    "bundle": {
        "zh": "下载证据包（PDF + 可验证 ZIP）",
        "en": "Download the evidence bundle (PDF + verifiable ZIP)",
    },
    "amended_by": {"zh": "已被更正：", "en": "Corrected by"},
    "retracted_by": {"zh": "已撤回：", "en": "Withdrawn by"},
    "corrects": {"zh": "更正 / 撤回 #", "en": "Corrects / withdraws #"},
    "correct_title": {"zh": "更正这条记录", "en": "Correct this entry"},
    "correct_note": {
        "zh": "原记录不会被修改：更正会作为新的一条记录保存，并在原记录旁标明。",
        "en": "The entry itself never changes: the correction is saved as a new entry, "
        "shown next to it.",
    },
    "new_platform": {"zh": "正确的平台", "en": "The right platform"},
    "clear_platform": {"zh": "不属于任何平台（删除平台）", "en": "Not of any lender (remove it)"},
    "new_said": {"zh": "补充或改正对方说的话", "en": "What was said, completed or fixed"},
    "correction_reason": {"zh": "为什么更正（可不填）", "en": "Why (optional)"},
    "save_correction": {"zh": "保存更正", "en": "Save the correction"},
    "withdraw_title": {"zh": "撤回（记错了）", "en": "Withdraw (logged by mistake)"},
    "withdraw_reason": {"zh": "撤回的原因（必填）", "en": "Why (required)"},
    "withdraw": {"zh": "撤回这条记录", "en": "Withdraw this entry"},
    "current_password": {"zh": "当前密码", "en": "Current password"},
    "new_password": {"zh": "新密码", "en": "New password"},
    "new_password2": {"zh": "再输一次新密码", "en": "New password again"},
    "password_changed": {
        "zh": "密码已修改，其他设备已退出",
        "en": "Password changed; other devices were signed out",
    },
    "error": {"zh": "出错了", "en": "Something went wrong"},
    "back": {"zh": "返回", "en": "Back"},
    "http_404": {"zh": "找不到这个页面", "en": "Not found"},
    "http_403": {"zh": "请求被拒绝", "en": "Refused"},
    "http_405": {"zh": "不支持这个操作", "en": "Not allowed"},
    "http_413": {"zh": "文件太大", "en": "The file is too large"},
    "http_400": {"zh": "请求有误", "en": "Bad request"},
    "stats_findings": {"zh": "违规情形（附出处）", "en": "Findings, with citations"},
    "findings_rule": {"zh": "规则", "en": "Rule"},
    "findings_tier": {"zh": "依据层级", "en": "Tier"},
    "findings_events": {"zh": "次数", "en": "Events"},
    "findings_days": {"zh": "天数", "en": "Days"},
    "findings_basis": {"zh": "依据", "en": "Basis"},
    "findings_citation": {"zh": "出处", "en": "Citation"},
    "findings_entries": {"zh": "相关记录", "en": "Entries"},
    "findings_none": {"zh": "记录未显示违反这些规则的情形。", "en": "No rule is broken."},
    "findings_note": {
        "zh": "自动核对结果，不是法律意见；“词表推断”须核对原文。",
        "en": "Computed from the log; not legal advice. Check 'inferred' entries yourself.",
    },
    "basis_counted": {"zh": "按时间次数计算", "en": "counted"},
    "basis_stated": {"zh": "本人标注", "en": "stated"},
    "basis_inferred": {"zh": "词表推断", "en": "inferred"},
    "basis_stated+inferred": {"zh": "本人标注+词表推断", "en": "stated+inferred"},
    "kind_call": {"zh": "电话", "en": "Call"},
    "kind_sms": {"zh": "短信", "en": "SMS"},
    "kind_message": {"zh": "微信/QQ 等消息", "en": "Message (WeChat…)"},
    "kind_contact": {"zh": "爆通讯录（联系了家人/单位）", "en": "Contacted family/employer"},
    "kind_visit": {"zh": "上门", "en": "Visit"},
    "kind_letter": {"zh": "律师函/信件", "en": "Letter"},
    "kind_other": {"zh": "其他", "en": "Other"},
    "kind_fact": {"zh": "事实", "en": "Fact"},
    "kind_amend": {"zh": "更正", "en": "Correction"},
    "kind_retract": {"zh": "撤回", "en": "Withdrawal"},
}


def translator(lang: str) -> Callable[..., str]:
    def t(key: str, default: str | None = None) -> str:
        entry = TEXT.get(key)
        if entry is None:
            return default if default is not None else key
        return entry.get(lang) or entry["zh"]

    return t
