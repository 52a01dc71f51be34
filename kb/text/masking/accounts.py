"""Accounts on the internet in free text: SNS handles and ids, profile addresses (for
:mod:`kb.text.masking.masker`)."""

from __future__ import annotations

import re

# SNS handles (@sakura_mama) and ids after a service's name (LINE ID: taro_1234).
HANDLE_RE = re.compile(r"(?<![A-Za-z0-9._%+\-@])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,29}[A-Za-z0-9_])?")
SNS_LABEL_RE = re.compile(
    r"(?<![A-Za-zァ-ヺー])(?P<label>LINE|ライン|インスタ(?:グラム)?|Instagram|Facebook|フェイスブック"
    r"|Twitter|ツイッター|TikTok|ティックトック|Skype|スカイプ|Discord|WeChat|KakaoTalk"
    r"|カカオトーク|カカオ|Threads|Telegram|テレグラム|メッセンジャー|Messenger|ディスコード"
    r"|X(?=\s*(?:\(旧Twitter\))?\s*(?:の|は)?\s*(?i:id|アカウント))|エックス)"
    r"(?P<gap>(?:\s|[:=(「『\"]|の|は|が|で|と|(?i:id)|アカウント|ユーザー(?:名|ネーム|(?i:id))?|名"
    # Whose account it is (LINEで本人（ID：hikari1971）とやり取り).
    r"|(?:ご)?本人|相談者"
    # LINEの友だち登録 ID 「hana-mama」 (友だち only before an ID: LINEの友だち 10人 is a count).
    r"|(?:友だち|友達)(?:登録)?(?=\s*(?i:id))|\(旧Twitter\)){0,6})"
    r"(?P<value>[A-Za-z0-9_][A-Za-z0-9_.\-]{0,40}[A-Za-z0-9_])"
)
# What in the gap shows that an id follows (a bare "LINE Pay" is a product, not an id).
SNS_GAP_LABEL_RE = re.compile(r"(?i:id)|アカウント|ユーザー|名|:")

# A profile on a social network, in its address: the account is the first path part.
SNS_URL_RE = re.compile(
    r"(?<![A-Za-z0-9.\-])(?i:(?:https?://)?(?:www\.|m\.|mobile\.)?(?:facebook\.com|instagram\.com|x\.com|twitter\.com"
    r"|tiktok\.com|threads\.net|ameblo\.jp|note\.com|youtube\.com|line\.me/ti/p|lin\.ee))/"
    r"(?P<value>@?[A-Za-z0-9_.~%\-]{2,64})"
)
# A profile on any site, in its address: the part after /users/, /u/, /profile/, /members/,
# /people/ or /~ is an account (https://example.com/users/kitou-kohaku/profile).
PROFILE_PATH_RE = re.compile(
    # Not on a public body's site (*.lg.jp, *.go.jp): its /users/ pages are guides.
    r"(?i:https?://)(?![A-Za-z0-9.\-]*\.(?i:lg|go)\.jp(?![A-Za-z0-9.\-]))[A-Za-z0-9.\-]+"
    r"(?:/[^\s/]+)*?"
    r"/(?:(?i:users?|u|profiles?|members?|people|accounts?)/|~)"
    r"(?P<value>[A-Za-z0-9_.%\-]{2,64})"
)


_SPELLED_AT_RE = re.compile(r"\s(?i:at)\s")
_MAIL_PROVIDER_RE = re.compile(
    r"(?:gmail|yahoo|icloud|docomo|ezweb|au|softbank|outlook|hotmail|i\.softbank|me|mac)\b"
)


def spelled_at_is_address(match: re.Match[str]) -> bool:
    """Whether an e-mail match of :data:`kb.text.masking.patterns.EMAIL_RE` (its group 1 the
    domain) is an address: with " at " spelled out, the part before needs a digit, a dot or
    an underscore (kenji_1975 at docomo.ne.jp) or the domain a mail provider's (yamadahanako
    at gmail.com); "look at example.com" is English."""
    spelled = _SPELLED_AT_RE.search(match.group(0))
    if spelled is None:
        return True
    local = match.group(0)[: spelled.start()]
    return bool(re.search(r"[0-9_.]", local) or _MAIL_PROVIDER_RE.match(match.group(1).lower()))
