"""Order import from other tools' CSV exports: encodings, headers, money, row checks."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules.orders_csv import (
    ImportRow,
    MissingColumns,
    RowError,
    decode,
    parse_money,
    parse_orders,
)

HEADER = "order_id,member,product,quantity,unit_price,status,ordered_at\n"

BIG5_EXPORT = (
    "訂單編號,姓名,商品名稱,數量,單價,狀態,下單時間\r\n"
    "TW-001,陳美玲,鳳梨酥禮盒,2,\"NT$1,200\",已付款,2024/05/01 10:15\r\n"
    "TW-002,林志豪,阿里山高山烏龍茶,1,850,未付款,2024/05/01 11:02\r\n"
    "TW-003,@amy_tw,臺中太陽餅,3,３２０元,已取貨,2024/05/02 09:30\r\n"
)
GBK_EXPORT = (
    "订单编号,昵称,商品名称,数量,单价,状态,下单时间\n"
    "CN-001,张伟,五常大米 5kg,2,¥88.5,已付款,2024-05-01 10:15\n"
    "CN-002,李娜,赣南脐橙,1,\"1,299\",待付款,2024-05-01 11:02\n"
    "CN-003,@liu_yang,阳澄湖大闸蟹,4,268,已发货,2024-05-02 09:30\n"
)


def orders(*lines: str, header: str = HEADER, **options):
    return parse_orders(header + "".join(line + "\n" for line in lines), **options)


# Encodings -----------------------------------------------------------------------------------


def test_a_big5_file_reads_correctly():
    raw = BIG5_EXPORT.encode("cp950")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = decode(raw)
    assert text == BIG5_EXPORT
    assert text.splitlines()[0] == "訂單編號,姓名,商品名稱,數量,單價,狀態,下單時間"
    rows, errors = parse_orders(text)
    assert errors == []
    assert [(r.member, r.product, r.unit_price, r.status) for r in rows] == [
        ("陳美玲", "鳳梨酥禮盒", 120_000, "paid"),
        ("林志豪", "阿里山高山烏龍茶", 85_000, "pending"),
        ("@amy_tw", "臺中太陽餅", 32_000, "delivered"),
    ]


def test_a_gbk_file_reads_correctly():
    raw = GBK_EXPORT.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = decode(raw)
    assert text == GBK_EXPORT
    assert text.splitlines()[0] == "订单编号,昵称,商品名称,数量,单价,状态,下单时间"
    rows, errors = parse_orders(text)
    assert errors == []
    assert [(r.member, r.product, r.unit_price, r.status) for r in rows] == [
        ("张伟", "五常大米 5kg", 8_850, "paid"),
        ("李娜", "赣南脐橙", 129_900, "pending"),
        ("@liu_yang", "阳澄湖大闸蟹", 26_800, "delivered"),
    ]


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("陳美玲 鳳梨酥 兩盒\n林志豪 高山烏龍茶 一包\n謝佩珊 太陽餅\n", "cp950"),
        ("张伟 五常大米 两袋\n李娜 赣南脐橙 一箱\n谢佩珊 阳澄湖大闸蟹\n", "gb18030"),
    ],
)
def test_without_known_headers_the_reading_with_common_characters_wins(text, encoding):
    assert decode(text.encode(encoding)) == text


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf"])
def test_a_utf8_file_with_or_without_bom_reads_correctly(prefix):
    assert decode(prefix + BIG5_EXPORT.encode("utf-8")) == BIG5_EXPORT


@given(st.binary(max_size=300))
def test_decoding_never_raises(raw):
    assert isinstance(decode(raw), str)


# Money ---------------------------------------------------------------------------------------


def test_money_is_read_in_minor_units_never_as_float():
    # 0.29 * 100 == 28.999999999999996 and 4.35 * 100 == 434.99999999999994 as floats.
    assert parse_money("0.29") == 29
    assert parse_money("4.35") == 435
    assert parse_money("NT$1,200") == 120_000
    assert type(parse_money("1,200.50")) is int


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("1200", 120_000),
        ("1,200", 120_000),
        ("NT$1,200", 120_000),
        ("NT$ 1,200", 120_000),
        ("$1,200.50", 120_050),
        ("¥88.5", 8_850),
        ("￥88.5", 8_850),
        ("１２００", 120_000),
        ("ＮＴ＄１，２００．５", 120_050),
        ("1200元", 120_000),
        ("  1200 元 ", 120_000),
        ("0", 0),
        ("1,234,567.89", 123_456_789),
    ],
)
def test_money_accepts_the_ways_exports_write_it(text, minor):
    assert parse_money(text) == minor


@pytest.mark.parametrize(
    "text",
    ["", "   ", "abc", "-5", "NT$-1,200", "1,20", "1200,000", "12,34,567", "1.234", "1.", ".5",
     "1 200", "12a", "1e3", "NaN", "٣", "9" * 50],
)
def test_money_refuses_negatives_malformed_amounts_and_text(text):
    assert parse_money(text) is None


def test_money_respects_the_currency_exponent():
    assert parse_money("1,200", exponent=0) == 1_200
    assert parse_money("1.5", exponent=0) is None
    assert parse_money("1.5", exponent=3) == 1_500
    with pytest.raises(ValueError):
        parse_money("1", exponent=-1)


@given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=0, max_value=4))
def test_any_amount_written_with_thousands_separators_reads_back_exactly(minor, exponent):
    whole, fraction = divmod(minor, 10**exponent)
    text = f"{whole:,}" + (f".{fraction:0{exponent}d}" if exponent else "")
    assert parse_money(text, exponent) == minor


# Headers -------------------------------------------------------------------------------------


def test_orders_are_read_from_a_well_formed_export():
    rows, errors = orders("A1,Amy,Pineapple cake,2,\"1,200\",paid,2024-05-01 10:00")
    assert errors == []
    assert rows == [ImportRow(2, "A1", "Amy", "Pineapple cake", 2, 120_000, "paid",
                              "2024-05-01 10:00")]


def test_missing_columns_are_named():
    with pytest.raises(MissingColumns) as caught:
        orders("A1,Amy", header="member,order_id,notes\n")
    assert caught.value.missing == ["product", "quantity", "unit_price"]
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("text", ["", "\n\n  \n", "\ufeff"])
def test_an_empty_file_is_missing_every_required_column(text):
    with pytest.raises(MissingColumns) as caught:
        parse_orders(text)
    assert caught.value.missing == ["external_id", "member", "product", "quantity", "unit_price"]


def test_headers_match_regardless_of_case_width_and_spacing():
    header = " Order ID ,ＮＡＭＥ,Item,ＱＴＹ,Unit_Price,STATUS,Date\n"
    rows, errors = orders("A1,Amy,Tea,1,100,Paid,2026-11-05", header=header)
    assert errors == []
    assert rows[0].member == "Amy" and rows[0].status == "paid" and rows[0].ordered_at == "2026-11-05"


def test_the_more_specific_header_wins_when_two_columns_match():
    header = "編號,訂單編號,姓名,品名,數量,單價\n"
    rows, _ = orders("1,TW-9,Amy,Tea,1,100", header=header)
    assert rows[0].external_id == "TW-9"


def test_unknown_columns_are_ignored_and_optional_ones_default():
    header = "備註,order_id,member,product,quantity,price,電話\n"
    rows, errors = orders("gift wrap,A1,Amy,Tea,1,100,0912345678", header=header)
    assert errors == []
    assert rows[0].status == "pending" and rows[0].ordered_at == ""


def test_a_bom_left_in_the_text_does_not_hide_the_first_header():
    rows, errors = parse_orders("\ufeff" + HEADER + "A1,Amy,Tea,1,100,,\n")
    assert errors == [] and rows[0].external_id == "A1"


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files_are_read(delimiter):
    text = delimiter.join(["訂單編號", "姓名", "商品", "數量", "單價"]) + "\n"
    text += delimiter.join(["A1", "Amy", "Tea, green", "2", "1,200"]) + "\n"
    rows, errors = parse_orders(text)
    assert errors == []
    assert rows[0].product == "Tea, green" and rows[0].unit_price == 120_000


# Rows ----------------------------------------------------------------------------------------


def test_bad_rows_are_reported_by_line_number_and_good_rows_kept():
    rows, errors = orders(
        "A1,Amy,Tea,1,100,paid,",
        "A2,Bob,Tea,zero,100,paid,",
        "A3,Cat,Tea,1,1,200,paid,2024-05-01",  # unquoted 1,200
        "A4,Dan,Tea,2,50,,",
    )
    assert [row.line for row in rows] == [2, 5]
    assert [(e.line, e.reason) for e in errors] == [(3, "bad_quantity"), (4, "too_many_columns")]


def test_a_row_is_reported_once_per_problem():
    _, errors = orders(",Amy,,0,-5,lost,")
    assert errors == [
        RowError(2, "missing_value", "external_id", ""),
        RowError(2, "missing_value", "product", ""),
        RowError(2, "bad_quantity", "quantity", "0"),
        RowError(2, "bad_price", "unit_price", "-5"),
        RowError(2, "bad_status", "status", "lost"),
    ]


@pytest.mark.parametrize(
    ("raw", "status"),
    [("", "pending"), ("待付款", "pending"), ("新訂單", "pending"), ("PAID", "paid"),
     ("已付", "paid"), ("已到貨", "delivered"), ("已发货", "delivered"), ("完成", "delivered"),
     ("Canceled", "cancelled"), ("已取消", "cancelled"), (" 取消 ", "cancelled")],
)
def test_statuses_are_normalised(raw, status):
    rows, errors = orders(f"A1,Amy,Tea,1,100,{raw},")
    assert errors == [] and rows[0].status == status


@pytest.mark.parametrize(("raw", "quantity"), [("1", 1), ("３", 3), (" 12 ", 12), ("9999", 9999)])
def test_quantity_accepts_whole_numbers_from_1_to_9999(raw, quantity):
    rows, _ = orders(f"A1,Amy,Tea,{raw},100,,")
    assert rows[0].quantity == quantity


@pytest.mark.parametrize("raw", ["0", "10000", "-1", "1.5", "two", "1e2"])
def test_quantity_outside_1_to_9999_or_not_whole_is_refused(raw):
    rows, errors = orders(f"A1,Amy,Tea,{raw},100,,")
    assert rows == [] and errors == [RowError(2, "bad_quantity", "quantity", raw)]


def test_a_repeated_order_id_is_reported_on_the_later_row():
    rows, errors = orders("A1,Amy,Tea,1,100,,", "A2,Bob,Tea,1,100,,", "Ａ1,Cat,Tea,1,100,,")
    assert [row.external_id for row in rows] == ["A1", "A2"]
    assert errors == [RowError(4, "duplicate_id", "external_id", "A1")]


def test_quoted_fields_with_commas_and_newlines_keep_line_numbers_physical():
    rows, errors = orders(
        'A1,Amy,"Gift box,\nwith card\nand ribbon",1,100,,',
        "A2,Bob,Tea,oops,100,,",
    )
    assert rows[0].line == 2 and rows[0].product == "Gift box,\nwith card\nand ribbon"
    assert errors == [RowError(5, "bad_quantity", "quantity", "oops")]


def test_blank_rows_are_skipped_but_still_counted_as_lines():
    text = "\r\n" + HEADER.replace("\n", "\r\n") + "\r\n,,,,,,\r\nA1,Amy,Tea,1,100,,\r\n\r\n"
    rows, errors = parse_orders(text)
    assert errors == [] and [row.line for row in rows] == [5]


def test_trailing_empty_cells_are_not_too_many_columns():
    rows, errors = orders("A1,Amy,Tea,1,100,,,,")
    assert errors == [] and len(rows) == 1


def test_more_than_max_rows_stops_at_the_first_row_beyond():
    lines = [f"A{i},Amy,Tea,1,100,," for i in range(5)]
    rows, errors = orders(*lines, max_rows=3)
    assert len(rows) == 3
    assert errors == [RowError(5, "too_many_rows", "", "")]


def test_offending_values_are_truncated_to_40_characters():
    _, errors = orders(f"A1,Amy,Tea,{'9' * 100},100,,")
    assert errors[0].value == "9" * 40


def test_an_oversized_field_is_reported_not_raised():
    rows, errors = orders("A1,Amy,Tea,1,100,,", f'A2,Bob,"{"x" * 200_000}",1,100,,')
    assert len(rows) == 1
    assert errors[0].line == 3 and errors[0].reason == "bad_csv"


@given(st.text(max_size=300))
def test_any_body_text_gives_rows_and_errors_without_raising(body):
    rows, errors = parse_orders(HEADER + body)
    assert all(row.line >= 2 and row.unit_price >= 0 for row in rows)
    assert all(1 <= row.quantity <= 9999 for row in rows)
    assert all(len(error.value) <= 40 for error in errors)


def test_an_order_date_must_be_a_real_date():
    header = "order_id,member,product,quantity,unit_price,status,ordered_at\n"
    rows, errors = orders("A1,Amy,Tea,1,100,paid,2026-13-45\nA2,Bob,Tea,1,100,paid,2026/11/05 14:30",
                          header=header)
    assert [(e.line, e.reason) for e in errors] == [(2, "bad_date")]
    assert [r.external_id for r in rows] == ["A2"]


def test_our_own_export_statuses_read_back():
    header = "order_id,member,product,quantity,unit_price,status\n"
    rows, errors = orders("1,Amy,Tea,1,100,allocated\n2,Bob,Tea,1,100,refunded", header=header)
    assert errors == [] and [r.status for r in rows] == ["pending", "cancelled"]


# Our own export reads back through our import ------------------------------------------------

from models.rules.orders_export import (  # noqa: E402
    EXPORT_COLUMNS,
    EXPORT_HEADERS,
    EXPORT_STATUSES,
    escape,
    unescape,
    write_orders,
)


def _export_row(**overrides: str) -> dict[str, str]:
    row = dict.fromkeys(EXPORT_COLUMNS, "")
    row.update(order_id="7", member="Amy", product="Tea", quantity="2", unit_price="3.5",
               status="allocated", ordered_at="2026-03-10T12:00:00+08:00")
    row.update(overrides)
    return row


@pytest.mark.parametrize("cell", ["=SUM(A1:A9)", "+886912345678", "-2+3", "@cmd", "\tx", "\rx",
                                  "'=already quoted"])
def test_a_cell_a_spreadsheet_would_run_is_escaped(cell):
    assert escape(cell).startswith("'") and escape(cell)[1:] == cell


@pytest.mark.parametrize("cell", ["Amy", "陳美玲", "12", "3.5", "2026-03-10T12:00:00+08:00", "", "a=b"])
def test_a_harmless_cell_is_written_as_it_is(cell):
    assert escape(cell) == cell == unescape(cell)


@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=30))
def test_unescape_gives_back_any_escaped_value(cell):
    assert unescape(escape(cell)) == cell


@pytest.mark.parametrize("locale", ["en", "zh-Hant", "zh-Hans"])
@pytest.mark.parametrize("status, read_as", [("allocated", "pending"), ("paid", "paid"),
                                             ("delivered", "delivered"), ("cancelled", "cancelled"),
                                             ("refunded", "cancelled"), ("waitlisted", "cancelled")])
def test_every_exported_status_in_every_language_reads_back(locale, status, read_as):
    text = write_orders([_export_row(status=EXPORT_STATUSES[locale][status])], locale)
    rows, errors = parse_orders(text)
    assert errors == [] and [r.status for r in rows] == [read_as]


@pytest.mark.parametrize("locale", ["en", "zh-Hant", "zh-Hans"])
def test_an_escaped_cell_round_trips_to_the_original_value_through_our_import(locale):
    text = write_orders([_export_row(member="=HYPERLINK(\"http://x\")", product="-5% 蘋果",
                                     order_id="@1")], locale)
    assert text.splitlines()[0].split(",") == list(EXPORT_HEADERS[locale])
    assert "'=HYPERLINK" in text and "'-5% 蘋果" in text
    rows, errors = parse_orders(text)
    assert errors == []
    [row] = rows
    assert (row.external_id, row.member, row.product, row.quantity, row.unit_price) == (
        "@1", '=HYPERLINK("http://x")', "-5% 蘋果", 2, 350)
    assert row.ordered_at == "2026-03-10T12:00:00+08:00"


_NAMES = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1,
                 max_size=30).filter(lambda s: s == s.strip())


@given(member=_NAMES, product=_NAMES)
def test_any_member_and_product_name_round_trips_through_our_import(member, product):
    rows, errors = parse_orders(write_orders([_export_row(member=member, product=product)], "zh-Hant"))
    assert errors == [] and [(r.member, r.product) for r in rows] == [(member, product)]
