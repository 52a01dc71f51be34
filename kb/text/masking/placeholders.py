"""The placeholders that stand where personal data was: one module, so every rule shares them."""

from __future__ import annotations

EMAIL = "[メール]"
PHONE = "[電話番号]"
MY_NUMBER = "[個人番号]"
ID_NUMBER = "[番号]"
ADDRESS = "[住所]"
BIRTH_DATE = "[生年月日]"
NAME = "[氏名]"
ACCOUNT = "[アカウント]"
AFFILIATION = "[勤務先・学校]"

PLACEHOLDERS = (
    EMAIL,
    PHONE,
    MY_NUMBER,
    ID_NUMBER,
    ADDRESS,
    BIRTH_DATE,
    NAME,
    ACCOUNT,
    AFFILIATION,
)
