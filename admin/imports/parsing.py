"""Reading staff's spreadsheets: CSV in any of the encodings Chinese offices produce, and XLSX,
defended against hostile files; column recognition; row-by-row checking.

Nothing here touches the database: `read_table` turns bytes into a Table of strings,
`parse_accounts` / `parse_payments` turn a Table and a column mapping into records plus a list
of row errors. The view shows both and saves only when there are no errors (all or nothing).

Hostile files:
- the upload size is capped by Flask (MAX_CONTENT_LENGTH) before anything is read;
- an XLSX is a zip: its central directory is checked *before* openpyxl sees it (member count,
  total declared uncompressed size, compression ratio per member). Python's zipfile never
  inflates a member beyond its declared size, so the declared sizes bound the memory openpyxl
  can be made to use;
- openpyxl parses XML through defusedxml (entity expansion, external entities) and is opened
  read-only (streaming), formulas are not evaluated;
- the number of rows read is capped.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

import phonenumbers
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

MAX_COLUMNS = 60
MAX_CELL = 500  # characters kept per cell


class ImportRefused(ValueError):
    """The whole file is refused (too big, a zip bomb, unreadable); the message says why."""


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]          # data rows, all strings, each as long as headers
    source: str                    # "csv" / "xlsx"
    encoding: str | None = None    # CSV only: the encoding that was detected
    header_row: int = 1            # file row number of the header (1-based)
    row_numbers: list[int] = field(default_factory=list)  # file row number of each data row

    def to_json(self) -> dict:
        return {"headers": self.headers, "rows": self.rows, "source": self.source,
                "encoding": self.encoding, "header_row": self.header_row,
                "row_numbers": self.row_numbers}

    @classmethod
    def from_json(cls, data: dict) -> Table:
        return cls(data["headers"], data["rows"], data["source"], data.get("encoding"),
                   data.get("header_row", 1), data.get("row_numbers") or [])


@dataclass(frozen=True)
class Limits:
    max_rows: int = 50_000
    max_uncompressed: int = 100 * 1024 * 1024
    max_ratio: int = 200
    max_members: int = 1000


# -- cells ------------------------------------------------------------------------------------

def clean(value: object) -> str:
    """A cell as text: NFKC (full-width digits, letters and spaces become ASCII), trimmed,
    zero-width characters removed, length capped."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    elif isinstance(value, date):
        value = value.isoformat()
    elif isinstance(value, float):
        value = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    text = unicodedata.normalize("NFKC", str(value))
    text = text.replace("\u200b", "").replace("\ufeff", "")
    return " ".join(text.split())[:MAX_CELL]


def _square(rows: list[list[str]], width: int) -> list[list[str]]:
    return [(r + [""] * width)[:width] for r in rows]


def _drop_empty_rows(rows: list[list[str]]) -> list[tuple[int, list[str]]]:
    return [(i, r) for i, r in enumerate(rows) if any(c for c in r)]


# -- CSV --------------------------------------------------------------------------------------

ENCODINGS = ("utf-8-sig", "gb18030")  # gb18030 is a superset of GBK and GB2312


def decode_csv(data: bytes) -> tuple[str, str]:
    """(text, encoding). UTF-8 (with or without BOM) first: GB18030 would accept almost any
    bytes, UTF-8 rejects nearly everything that is not UTF-8. UTF-16 (Excel's "Unicode text")
    is recognised by its BOM."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    for enc in ENCODINGS:
        try:
            return data.decode(enc), ("utf-8" if enc == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf")
                                      else "utf-8-bom" if enc == "utf-8-sig" else enc)
        except UnicodeDecodeError:
            continue
    raise ImportRefused(_("The file is not text in UTF-8 or GBK/GB18030. Save it from Excel as "
                          "\"CSV UTF-8\" or as an .xlsx workbook."))


def _dialect(text: str) -> type[csv.Dialect]:
    """Comma, tab, semicolon or bar: the one found on most of the first lines (a title row
    above the header has none; csv.Sniffer is thrown by it)."""
    lines = [line for line in text[:20000].splitlines() if line.strip()][:30]
    best, best_lines = ",", 0
    for sep in (",", "\t", ";", "|"):
        found = sum(1 for line in lines if sep in line)
        if found > best_lines:
            best, best_lines = sep, found

    class Dialect(csv.excel):
        delimiter = best
    return Dialect


def read_csv(data: bytes, limits: Limits) -> Table:
    text, encoding = decode_csv(data)
    if "\x00" in text:
        raise ImportRefused(_("The file contains binary data; it is not a CSV file."))
    dialect = _dialect(text)
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    raw: list[list[str]] = []
    try:
        for row in reader:
            raw.append([clean(c) for c in row[:MAX_COLUMNS]])
            if len(raw) > limits.max_rows + 1:
                raise ImportRefused(_("The file has more than %(n)d rows. Split it into smaller files.",
                                      n=limits.max_rows))
    except csv.Error as err:
        raise ImportRefused(_("The CSV file could not be read: %(err)s", err=str(err))) from None
    return _table(raw, "csv", encoding)


# -- XLSX -------------------------------------------------------------------------------------

def check_zip(data: bytes, limits: Limits) -> None:
    """Refuse a zip bomb before any member is inflated."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise ImportRefused(_("The file is not a valid .xlsx workbook.")) from None
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise ImportRefused(_("The workbook has too many parts; it is refused."))
        total = 0
        for info in members:
            total += info.file_size
            if info.flag_bits & 0x1:
                raise ImportRefused(_("Encrypted workbooks cannot be imported."))
            if info.file_size > 1024 * 1024 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                raise ImportRefused(_("The workbook looks like a zip bomb (a part expands %(ratio)d times); "
                                      "it is refused.", ratio=info.file_size // max(info.compress_size, 1)))
        if total > limits.max_uncompressed:
            raise ImportRefused(_("The workbook would expand to %(mb)d MB; at most %(max)d MB is allowed.",
                                  mb=total // (1024 * 1024), max=limits.max_uncompressed // (1024 * 1024)))
        if "xl/workbook.xml" not in {m.filename for m in members}:
            raise ImportRefused(_("The file is not a valid .xlsx workbook."))


def read_xlsx(data: bytes, limits: Limits) -> Table:
    check_zip(data, limits)
    import openpyxl
    from openpyxl import xml as openpyxl_xml

    if not openpyxl_xml.DEFUSEDXML:  # never parse uploaded XML without defusedxml
        raise ImportRefused("defusedxml is not installed; XLSX import is disabled")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True,
                                          keep_links=False)
    except Exception as err:  # openpyxl raises many unrelated types on a bad file
        raise ImportRefused(_("The workbook could not be read: %(err)s", err=type(err).__name__)) from None
    try:
        sheet = workbook.worksheets[0]
        raw: list[list[str]] = []
        for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            raw.append([clean(c) for c in row])
            if len(raw) > limits.max_rows + 1:
                raise ImportRefused(_("The file has more than %(n)d rows. Split it into smaller files.",
                                      n=limits.max_rows))
    except ImportRefused:
        raise
    except Exception as err:
        raise ImportRefused(_("The workbook could not be read: %(err)s", err=type(err).__name__)) from None
    finally:
        workbook.close()
    return _table(raw, "xlsx", None)


def _table(raw: list[list[str]], source: str, encoding: str | None) -> Table:
    numbered = _drop_empty_rows(raw)
    if not numbered:
        raise ImportRefused(_("The file is empty."))
    # the header is the first row with at least two non-empty cells (a title row above it,
    # like "3栋欠费明细", is skipped)
    header_at = next((k for k, (_i, r) in enumerate(numbered) if sum(1 for c in r if c) >= 2), 0)
    header_index, headers = numbered[header_at]
    data = numbered[header_at + 1:]
    width = max(len(r) for _i, r in numbered)
    headers = (headers + [""] * width)[:width]
    rows = _square([r for _i, r in data], width)
    # drop trailing columns that are empty throughout (Excel's formatted-but-blank columns)
    while width and not headers[width - 1] and all(not r[width - 1] for r in rows):
        width -= 1
    headers = [(h or f"#{k + 1}") for k, h in enumerate(headers[:width])]
    rows = [r[:width] for r in rows]
    return Table(headers, rows, source, encoding, header_row=header_index + 1,
                 row_numbers=[i + 1 for i, _r in data])


def read_table(data: bytes, filename: str, limits: Limits) -> Table:
    name = filename.lower()
    if name.endswith(".xlsx") or name.endswith(".xlsm") or data[:4] == b"PK\x03\x04":
        return read_xlsx(data, limits)
    if name.endswith(".xls"):
        raise ImportRefused(_("Old .xls workbooks are not supported: save the file as .xlsx or CSV."))
    return read_csv(data, limits)


def row_numbers(table: Table) -> list[int]:
    """File row number of each data row (for the error report)."""
    if len(table.row_numbers) == len(table.rows):
        return table.row_numbers
    return [table.header_row + 1 + i for i in range(len(table.rows))]


# -- columns ----------------------------------------------------------------------------------

ACCOUNT_FIELDS: dict[str, object] = {
    "room": _l("Room (房号)"),
    "building": _l("Building"),
    "area": _l("Estate / area"),
    "owner_name": _l("Owner name"),
    "title": _l("Title (先生/女士) or sex"),
    "phone": _l("Phone number"),
    "amount_owed": _l("Amount owed"),
    "months_owed": _l("Months owed"),
    "due_date": _l("Due date"),
    "external_id": _l("Account number (billing)"),
    "note": _l("Note"),
}

PAYMENT_FIELDS: dict[str, object] = {
    "room": _l("Room (房号)"),
    "area": _l("Estate / area"),
    "external_id": _l("Account number (billing)"),
    "amount": _l("Amount paid"),
    "paid_on": _l("Payment date"),
    "receipt": _l("Receipt / transaction number"),
}

# Header words, most specific first. Headers are compared after NFKC, lower-casing and
# removing spaces and brackets' contents like "(元)".
SYNONYMS: dict[str, tuple[str, ...]] = {
    "room": ("房号", "房间号", "房屋编号", "房屋", "房间", "门牌号", "门牌", "单元房号", "户室号",
             "room", "roomno", "unit"),
    "building": ("楼栋", "栋号", "楼号", "栋", "幢", "楼宇", "building"),
    "area": ("小区", "小区名称", "项目", "项目名称", "片区", "区域", "管理处", "供水区域", "area", "estate"),
    "owner_name": ("业主姓名", "业主名称", "业主", "户主", "户主姓名", "客户名称", "客户姓名", "用户名称",
                   "用户姓名", "姓名", "owner", "ownername", "name"),
    "title": ("称谓", "称呼", "性别", "title", "sex", "gender"),
    "phone": ("联系电话", "手机号码", "手机号", "手机", "电话号码", "电话", "联系方式", "固定电话", "固话",
              "座机", "备用电话", "其他电话", "联系电话2", "phone", "mobile", "tel", "telephone"),
    "amount_owed": ("欠费金额", "欠缴金额", "欠款金额", "欠费总额", "应缴金额", "应交金额", "欠费", "欠款",
                    "金额", "amountowed", "amount", "arrears"),
    "months_owed": ("欠费月数", "欠费期数", "欠费期限", "欠缴月数", "月数", "months", "monthsowed"),
    "due_date": ("交费截止日期", "缴费截止日期", "截止日期", "到期日期", "到期日", "最后缴费日", "duedate", "due"),
    "external_id": ("户号", "客户编号", "用户编号", "账户编号", "用户号", "编号", "accountno", "account", "id"),
    "note": ("备注", "说明", "note", "remark", "remarks"),
    # payments
    "amount": ("实收金额", "交费金额", "缴费金额", "实缴金额", "收款金额", "金额", "amountpaid", "amount"),
    "paid_on": ("交费日期", "缴费日期", "收款日期", "付款日期", "日期", "paidon", "date"),
    "receipt": ("收据号", "票据号", "流水号", "交易号", "单号", "receipt", "transaction"),
}


def _norm_header(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[(\[（【].*?[)\]）】]", "", text)
    return re.sub(r"[\s_\-:：*]", "", text)


def guess_mapping(headers: list[str], fields: dict[str, object]) -> list[str]:
    """A field name (or "" to ignore) per column. Several columns may map to "phone"; any
    other field goes to the first column that matches it."""
    mapping = [""] * len(headers)
    taken: set[str] = set()
    normed = [_norm_header(h) for h in headers]
    for exact in (True, False):
        for k, h in enumerate(normed):
            if mapping[k] or not h:
                continue
            for name in fields:
                if name in taken and name != "phone":
                    continue
                words = SYNONYMS.get(name, ())
                if any((h == w) if exact else (w in h and len(w) >= 2) for w in words):
                    mapping[k] = name
                    taken.add(name)
                    break
    return mapping


# -- values -----------------------------------------------------------------------------------

_MONEY_JUNK = re.compile(r"[¥￥,，元\s]|rmb|cny", re.I)
_SPLIT_PHONES = re.compile(r"[/;,，；、|\\]+|\s{2,}")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S",
                "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M")


def parse_money(text: str) -> Decimal:
    value = Decimal(_MONEY_JUNK.sub("", text))
    if not value.is_finite():
        raise InvalidOperation
    return value.quantize(Decimal("0.01"))


def parse_date(text: str) -> date:
    text = text.strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    if re.fullmatch(r"\d{5}", text):  # an Excel serial day number that lost its format
        serial = int(text)
        if 20000 < serial < 80000:
            from datetime import timedelta
            return date(1899, 12, 30) + timedelta(days=serial)
    raise ValueError(text)


def parse_months(text: str) -> int:
    m = re.fullmatch(r"(\d{1,3})(?:\.0+)?\s*(?:个月|个|月|months?)?", text.strip(), re.I)
    if not m:
        raise ValueError(text)
    return int(m.group(1))


@dataclass(frozen=True)
class PhoneNumber:
    number: str  # digits only, as dialed within China: 13800000001, 02160000001
    kind: str    # mobile / landline


class PhoneError(ValueError):
    pass


def normalise_phone(text: str) -> PhoneNumber:
    """One number, checked and written as dialed inside China. Raises PhoneError with the
    message for staff."""
    raw = text.strip()
    digits = re.sub(r"\D", "", raw)
    if not digits:
        raise PhoneError(_("\"%(value)s\" is not a phone number", value=raw))
    try:
        parsed = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise PhoneError(_("\"%(value)s\" is not a phone number", value=raw)) from None
    if parsed.country_code != 86:
        raise PhoneError(_("%(value)s is not a Chinese number", value=raw))
    if not phonenumbers.is_valid_number(parsed):
        if 7 <= len(digits) <= 8 and not digits.startswith("1"):
            raise PhoneError(_("Landline %(value)s needs its area code, e.g. 021-60000001", value=raw))
        raise PhoneError(_("%(value)s is not a valid Chinese phone number", value=raw))
    kind_code = phonenumbers.number_type(parsed)
    T = phonenumbers.PhoneNumberType
    if kind_code == T.MOBILE:
        kind = "mobile"
    elif kind_code in (T.FIXED_LINE, T.FIXED_LINE_OR_MOBILE):
        kind = "landline"
    else:
        raise PhoneError(_("%(value)s is a service number, not an owner's phone", value=raw))
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return PhoneNumber(re.sub(r"\D", "", national), kind)


def split_phones(text: str) -> list[str]:
    pieces = [p.strip() for p in _SPLIT_PHONES.split(text) if p.strip()]
    out: list[str] = []
    for piece in pieces:
        # "13800000001 13900000002": two numbers separated by one space
        if len(re.sub(r"\D", "", piece)) > 13 and " " in piece:
            out.extend(p for p in piece.split(" ") if p)
        else:
            out.append(piece)
    return out


def room_key(area: str, room: str) -> tuple[str, str]:
    """Rooms compare without spaces and dashes' variants, case-insensitively."""
    def n(s: str) -> str:
        s = unicodedata.normalize("NFKC", s or "").upper()
        return re.sub(r"[\s\-—–_·]", "", s)
    return n(area), n(room)


def building_of(room: str) -> str:
    m = re.match(r"^\s*(\d+\s*(?:栋|幢|号楼|座))", room)
    if m:
        return re.sub(r"\s", "", m.group(1)).replace("号楼", "栋").replace("幢", "栋")
    m = re.match(r"^\s*([A-Za-z0-9]+)-\d", room)  # 3-2-1501
    return m.group(1) + "栋" if m else ""


TITLES = {"男": "先生", "女": "女士", "先生": "先生", "女士": "女士", "小姐": "女士",
          "m": "先生", "male": "先生", "mr": "先生", "f": "女士", "female": "女士", "ms": "女士",
          "mrs": "女士"}


# -- checking rows ----------------------------------------------------------------------------

@dataclass
class RowError:
    row: int          # file row number (1-based, as Excel shows it)
    column: str       # the file's header
    message: str
    value: str = ""


@dataclass
class ParsedAccount:
    rows: list[int]
    room: str
    area: str = ""
    building: str = ""
    owner_name: str = ""
    title: str = ""
    phones: list[PhoneNumber] = field(default_factory=list)
    amount_owed: Decimal | None = None
    months_owed: int | None = None
    due_date: date | None = None
    external_id: str | None = None
    note: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return room_key(self.area, self.room)


@dataclass
class ParsedPayment:
    row: int
    room: str = ""
    area: str = ""
    external_id: str | None = None
    amount: Decimal | None = None
    paid_on: date | None = None
    receipt: str | None = None


@dataclass
class Checked:
    records: list
    errors: list[RowError]
    warnings: list[str]
    merged: int = 0  # duplicate rows folded into another row's account


def _columns(mapping: list[str], name: str) -> list[int]:
    return [k for k, m in enumerate(mapping) if m == name]


def mapping_errors(mapping: list[str], kind: str) -> list[str]:
    if kind == "accounts":
        if not _columns(mapping, "room") and not _columns(mapping, "external_id"):
            return [_("No column is marked as the room number (房号). Choose it below.")]
        if not _columns(mapping, "phone"):
            return [_("No column is marked as a phone number. Choose it below.")]
    else:
        if not _columns(mapping, "room") and not _columns(mapping, "external_id"):
            return [_("No column is marked as the room number (房号) or account number. Choose it below.")]
    return []


def parse_accounts(table: Table, mapping: list[str]) -> Checked:
    errors: list[RowError] = []
    warnings: list[str] = []
    by_key: dict[tuple[str, str], ParsedAccount] = {}
    by_ext: dict[str, ParsedAccount] = {}
    order: list[ParsedAccount] = []
    merged = 0
    col = {name: _columns(mapping, name) for name in ACCOUNT_FIELDS}
    first = {name: (cols[0] if cols else None) for name, cols in col.items()}
    headers = table.headers

    for cells, rownum in zip(table.rows, row_numbers(table)):
        def get(name: str) -> str:
            k = first[name]
            return cells[k] if k is not None else ""

        def err(name_or_col: str | int, message: str, value: str = "") -> None:
            k = name_or_col if isinstance(name_or_col, int) else first[name_or_col]
            errors.append(RowError(rownum, headers[k] if k is not None else "", message, value))

        room, ext = get("room"), get("external_id") or None
        if not room and not ext:
            err("room", _("Room number is missing"))
            continue
        rec = ParsedAccount(rows=[rownum], room=room, area=get("area"), external_id=ext,
                            owner_name=get("owner_name"), note=get("note") or None)
        rec.building = get("building") or building_of(room)
        title = get("title")
        if title:
            rec.title = TITLES.get(title.lower(), "")
            if not rec.title:
                err("title", _("Title must be 先生/女士 or 男/女"), title)
        seen_numbers: set[str] = set()
        for k in col["phone"]:
            for piece in split_phones(cells[k]):
                try:
                    phone = normalise_phone(piece)
                except PhoneError as exc:
                    err(k, str(exc), piece)
                    continue
                if phone.number not in seen_numbers:
                    seen_numbers.add(phone.number)
                    rec.phones.append(phone)
        if not rec.phones and not any(cells[k] for k in col["phone"]):
            err(col["phone"][0] if col["phone"] else "room", _("No phone number"))
        amount = get("amount_owed")
        if amount:
            try:
                rec.amount_owed = parse_money(amount)
                if rec.amount_owed < 0:
                    err("amount_owed", _("Amount must not be negative"), amount)
            except (InvalidOperation, ValueError):
                err("amount_owed", _("\"%(value)s\" is not an amount", value=amount), amount)
        months = get("months_owed")
        if months:
            try:
                rec.months_owed = parse_months(months)
            except ValueError:
                err("months_owed", _("\"%(value)s\" is not a whole number of months", value=months), months)
        due = get("due_date")
        if due:
            try:
                rec.due_date = parse_date(due)
            except ValueError:
                err("due_date", _("\"%(value)s\" is not a date (use YYYY-MM-DD)", value=due), due)

        same = (by_ext.get(ext) if ext else None) or (by_key.get(rec.key) if room else None)
        if same is not None:
            merged += 1
            warnings.append(_("Row %(row)d repeats %(room)s from row %(first)d: merged into one account "
                              "(phones combined, later values kept).",
                              row=rownum, room=room or ext, first=same.rows[0]))
            same.rows.append(rownum)
            for phone in rec.phones:
                if phone.number not in {p.number for p in same.phones}:
                    same.phones.append(phone)
            for name in ("owner_name", "title", "building", "amount_owed", "months_owed", "due_date",
                         "note", "external_id"):
                value = getattr(rec, name)
                if value not in (None, ""):
                    setattr(same, name, value)
            continue
        order.append(rec)
        if room:
            by_key[rec.key] = rec
        if ext:
            by_ext[ext] = rec
    return Checked(order, errors, warnings, merged)


def parse_payments(table: Table, mapping: list[str], today: date) -> Checked:
    errors: list[RowError] = []
    records: list[ParsedPayment] = []
    receipts: dict[str, int] = {}
    first = {name: (_columns(mapping, name) or [None])[0] for name in PAYMENT_FIELDS}
    headers = table.headers
    for cells, rownum in zip(table.rows, row_numbers(table)):
        def get(name: str) -> str:
            k = first[name]
            return cells[k] if k is not None else ""

        def err(name: str, message: str, value: str = "") -> None:
            k = first[name]
            errors.append(RowError(rownum, headers[k] if k is not None else "", message, value))

        rec = ParsedPayment(row=rownum, room=get("room"), area=get("area"),
                            external_id=get("external_id") or None, receipt=get("receipt") or None)
        if not rec.room and not rec.external_id:
            err("room", _("Room number is missing"))
            continue
        amount = get("amount")
        if amount:
            try:
                rec.amount = parse_money(amount)
                if rec.amount <= 0:
                    err("amount", _("Amount must be more than zero"), amount)
            except (InvalidOperation, ValueError):
                err("amount", _("\"%(value)s\" is not an amount", value=amount), amount)
        paid = get("paid_on")
        if paid:
            try:
                rec.paid_on = parse_date(paid)
                if rec.paid_on > today:
                    err("paid_on", _("Payment date %(value)s is in the future", value=paid), paid)
            except ValueError:
                err("paid_on", _("\"%(value)s\" is not a date (use YYYY-MM-DD)", value=paid), paid)
        else:
            rec.paid_on = today
        if rec.receipt:
            if rec.receipt in receipts:
                err("receipt", _("Receipt %(value)s also appears in row %(row)d", value=rec.receipt,
                                 row=receipts[rec.receipt]), rec.receipt)
            receipts.setdefault(rec.receipt, rownum)
        records.append(rec)
    return Checked(records, errors, [])
