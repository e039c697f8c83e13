//! Tables in and out: an uploaded spreadsheet — Excel (.xlsx, .xls), OpenDocument (.ods) read
//! by calamine, or CSV — as rows of text cells; and CSV written so that spreadsheet programs
//! open it as UTF-8 and never run a cell as a formula.

use std::io::Cursor;

use calamine::{Data, Reader};

use crate::domain::roster::{MAX_ROWS, Sheet};

/// The most a workbook may unpack to. Its parts say how large they are before anything is
/// inflated, so a small file that would unpack to gigabytes (a zip bomb) is refused unread.
const MAX_UNPACKED_BYTES: u64 = 64 << 20;

/// Reads every sheet of an uploaded file; the error is a Chinese sentence for the whole file.
pub fn read(bytes: &[u8], file_name: &str) -> Result<Vec<Sheet>, String> {
    let not_a_table = "文件不是 Excel 表格(.xlsx、.xls)、OpenDocument 表格(.ods)或 CSV 文件";
    if bytes.is_empty() {
        return Err("文件是空的".into());
    }
    if bytes.starts_with(b"PK\x03\x04") {
        check_unpacked_size(bytes).map_err(|_| not_a_table.to_owned())?;
        return read_workbook(bytes).map_err(|_| not_a_table.to_owned());
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return read_workbook(bytes).map_err(|_| not_a_table.to_owned());
    }
    let text = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    if text.contains(&0) {
        return Err(not_a_table.into());
    }
    if std::str::from_utf8(text).is_err() {
        return Err(
            "CSV 文件须为 UTF-8 编码:在 Excel 中“另存为”时选择“CSV UTF-8(逗号分隔)”".into(),
        );
    }
    read_csv(text, file_name)
}

fn check_unpacked_size(bytes: &[u8]) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let part = archive.by_index_raw(i).map_err(|e| e.to_string())?;
        total = total.saturating_add(part.size());
    }
    if total > MAX_UNPACKED_BYTES {
        return Err(format!("unpacks to {total} bytes"));
    }
    Ok(())
}

fn read_workbook(bytes: &[u8]) -> Result<Vec<Sheet>, String> {
    let mut book =
        calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut sheets = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(|e| e.to_string())?;
        // Rows are counted from the sheet's first row, as the spreadsheet program numbers them.
        let skipped = range.start().map_or(0, |(row, _)| row as usize);
        let first_col = range.start().map_or(0, |(_, col)| col as usize);
        let mut rows: Vec<Vec<String>> = vec![Vec::new(); skipped];
        for row in range.rows().take(MAX_ROWS + 2) {
            let mut cells = vec![String::new(); first_col];
            cells.extend(row.iter().map(text_of));
            rows.push(cells);
        }
        sheets.push(Sheet { name, rows });
    }
    Ok(sheets)
}

/// A cell as the person sees it: whole numbers without a decimal point (a login such as 1001
/// is typed as a number), dates as YYYY-MM-DD.
fn text_of(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Data::DateTime(d) if d.is_datetime() => {
            let (y, m, day, ..) = d.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{day:02}")
        }
        Data::DateTime(d) => d.as_f64().to_string(),
        Data::Error(e) => format!("#{e}"),
    }
}

fn read_csv(text: &[u8], file_name: &str) -> Result<Vec<Sheet>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut rows = Vec::new();
    for record in reader.records().take(MAX_ROWS + 2) {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            format!("CSV 文件第 {line} 行无法读取(引号不成对?)")
        })?;
        rows.push(record.iter().map(str::to_owned).collect());
    }
    Ok(vec![Sheet {
        name: file_name.to_owned(),
        rows,
    }])
}

/// One CSV field: quoted when it must be, and a leading `=`, `+`, `-` or `@` neutralised so a
/// spreadsheet program shows it instead of running it as a formula.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A CSV document: a byte-order mark (so that spreadsheet programs read the Chinese text as
/// UTF-8), the header and the rows, with CRLF line ends.
pub fn write_csv<'a>(header: &[&str], rows: impl IntoIterator<Item = Vec<&'a str>>) -> String {
    let mut out = String::from("\u{feff}");
    let mut line = |cells: &[&str]| {
        let fields: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    };
    line(header);
    for row in rows {
        line(&row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_field("修订协议"), "修订协议");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("他说\"好\""), "\"他说\"\"好\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("第一行\n第二行"), "\"第一行\n第二行\"");
    }

    #[test]
    fn what_is_written_reads_back() {
        let doc = write_csv(
            &["姓名", "角色"],
            [vec!["张伟", "局领导、局长"], vec!["王, 芳", ""]],
        );
        assert!(doc.starts_with('\u{feff}'));
        let sheets = read(doc.as_bytes(), "名单.csv").unwrap();
        assert_eq!(sheets[0].name, "名单.csv");
        assert_eq!(sheets[0].rows[2], vec!["王, 芳".to_owned(), String::new()]);
    }

    #[test]
    fn files_that_are_not_tables_are_refused_as_a_whole() {
        assert!(read(b"", "a.csv").unwrap_err().contains("空"));
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert!(read(png, "a.png").unwrap_err().contains("不是 Excel"));
        let gbk = b"\xd0\xd5\xc3\xfb,\xb5\xc7\xc2\xbc\xc3\xfb\r\n";
        assert!(read(gbk, "a.csv").unwrap_err().contains("UTF-8"));
        assert!(
            read(b"PK\x03\x04 not a zip", "a.xlsx")
                .unwrap_err()
                .contains("不是 Excel")
        );
    }
}
