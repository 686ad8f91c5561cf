"""Per-batch import report: an HTML page and an XLSX of the rejects.

The XLSX holds the rejected records with their original columns first and
the reasons after them, so a utility can fix the rows and send them back.
"""
from __future__ import annotations

import html
import json
import os

from ..errors import require

REASON_COLS = ["record_no", "target_layer", "field", "value", "reason_code", "reason_zh", "reason_en"]


def _paths(path, batch_id, several):
    base, ext = os.path.splitext(os.path.abspath(path))
    if several:
        base = f"{base}-{batch_id}"
    return base + ".html", base + ".xlsx"


def write_report(path, plan, s, several=False) -> list:
    html_path, xlsx_path = _paths(path, s["batch_id"], several)
    write_html(html_path, s)
    write_xlsx(xlsx_path, s)
    return [html_path, xlsx_path]


def write_html(path, s):
    e = html.escape
    rows = [("批次 / Batch", s["batch_id"]), ("文件 / File", s["file_name"]),
            ("SHA-256", s["sha256"]), ("上传人 / Uploaded by", s.get("uploaded_by") or ""),
            ("目标图层 / Layers", s["target_layer"]), ("输入坐标系 / Input CRS", s["crs_in"]),
            ("编码 / Encoding", s["encoding"] or ""), ("输入记录数 / Records in", s["records_in"]),
            ("接收数 / Accepted", s["accepted"]), ("新增 / New", s["inserted"]),
            ("更新数 / Updated", s["updated"]), ("未变数 / Unchanged", s["unchanged"]),
            ("拒收数 / Rejected", s["rejected"])]
    out = ["<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'>",
           f"<title>导入报告 / Import report {e(s['batch_id'])}</title>",
           "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
           "td,th{border:1px solid #999;padding:2px 6px;font-size:90%}th{background:#eee}</style>",
           "</head><body>", f"<h1>导入报告 / Import report: {e(s['file_name'])}</h1>"]
    if not s["written"]:
        out.append(f"<p>与批次 {e(str(s['duplicate_of']))} 的文件相同，未做任何更改。 / "
                   f"Same file as batch {e(str(s['duplicate_of']))}: nothing changed.</p>")
    out.append("<table>" + "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in rows) + "</table>")
    if s["notes"]:
        out.append("<h2>说明 / Notes</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in s["notes"]) + "</ul>")
    out.append("<h2>字段映射 / Field mapping</h2><table><tr><th>文件列 / Column</th><th>字段 / Field</th></tr>"
               + "".join(f"<tr><td>{e(str(k))}</td><td>{e(str(v))}</td></tr>"
                         for k, v in (s["mapping"].get("columns") or {}).items()) + "</table>")
    if s["findings"]:
        out.append("<h2>发现 / Findings</h2><table><tr><th>记录 / Record</th><th>点号 / Point</th>"
                   "<th>说明</th><th>Message</th></tr>"
                   + "".join(f"<tr><td>{f['record_no']}</td><td>{e(str(f['uid']))}</td>"
                             f"<td>{e(f['message_zh'])}</td><td>{e(f['message_en'])}</td></tr>"
                             for f in s["findings"]) + "</table>")
    out.append(f"<h2>拒收记录 / Rejected records ({s['rejected']})</h2>")
    if s["rejects"]:
        out.append("<table><tr>" + "".join(f"<th>{c}</th>" for c in REASON_COLS + ["raw"]) + "</tr>")
        for r in s["rejects"]:
            out.append("<tr>" + "".join(f"<td>{e('' if r.get(c) is None else str(r.get(c)))}</td>"
                                        for c in REASON_COLS + ["raw"]) + "</tr>")
        out.append("</table>")
    out.append("</body></html>")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(out))


def write_xlsx(path, s):
    openpyxl = require("openpyxl", feature="Writing the rejects workbook")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "拒收记录 rejects"
    raws = [json.loads(r["raw"]) for r in s["rejects"]]
    cols = []
    for raw in raws:
        for k in raw:
            if k not in cols:
                cols.append(k)
    ws.append(cols + [f"_{c}" for c in REASON_COLS])
    for raw, r in zip(raws, s["rejects"]):
        ws.append([_cell(raw.get(c)) for c in cols] + [_cell(r.get(c)) for c in REASON_COLS])
    info = wb.create_sheet("批次 batch")
    for k in ("batch_id", "file_name", "sha256", "target_layer", "crs_in", "encoding", "records_in",
              "accepted", "rejected", "updated", "unchanged"):
        info.append([k, _cell(s.get(k))])
    wb.save(path)


def _cell(v):
    if v is None or isinstance(v, (int, float, str)):
        return v
    return json.dumps(v, ensure_ascii=False)
