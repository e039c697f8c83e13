//! Topic materials (R-MATERIALS, 第二十一条(二)): which files are accepted, judged by their
//! content (magic bytes), never by their name alone.

/// An accepted kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Docx,
    Xlsx,
    Doc,
    Xls,
    Png,
    Jpeg,
}

impl FileKind {
    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Doc => "application/msword",
            FileKind::Xls => "application/vnd.ms-excel",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Decides what a file is from its bytes. Office files in the old binary format (OLE) look
/// alike inside, so for them the name's extension tells Word from Excel; anything else is
/// refused with a Chinese reason.
pub fn detect(bytes: &[u8], file_name: &str, limit_bytes: usize) -> Result<FileKind, String> {
    if bytes.is_empty() {
        return Err("文件为空".into());
    }
    if bytes.len() > limit_bytes {
        return Err(format!(
            "文件超过 {} MiB 的上限",
            limit_bytes / (1024 * 1024)
        ));
    }
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let kind = if bytes.starts_with(b"%PDF-") {
        Some(FileKind::Pdf)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(FileKind::Png)
    } else if bytes.starts_with(b"\xFF\xD8\xFF") {
        Some(FileKind::Jpeg)
    } else if bytes.starts_with(b"PK\x03\x04") {
        // An Office Open XML file is a zip whose entries live under word/ or xl/.
        if contains(bytes, b"word/") {
            Some(FileKind::Docx)
        } else if contains(bytes, b"xl/") {
            Some(FileKind::Xlsx)
        } else {
            None
        }
    } else if bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        match ext.as_str() {
            "doc" => Some(FileKind::Doc),
            "xls" => Some(FileKind::Xls),
            _ => None,
        }
    } else {
        None
    };
    kind.ok_or_else(|| "只接受 PDF、Word、Excel 和图片(PNG、JPEG)文件".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1024 * 1024;

    #[test]
    fn files_are_known_by_their_content() {
        assert_eq!(detect(b"%PDF-1.7 ...", "a.pdf", MIB), Ok(FileKind::Pdf));
        assert_eq!(
            detect(b"%PDF-1.7 ...", "renamed.txt", MIB),
            Ok(FileKind::Pdf)
        );
        assert_eq!(
            detect(b"\x89PNG\r\n\x1a\nrest", "x.png", MIB),
            Ok(FileKind::Png)
        );
        assert_eq!(
            detect(b"\xFF\xD8\xFF\xE0", "x.jpg", MIB),
            Ok(FileKind::Jpeg)
        );
        assert_eq!(
            detect(b"PK\x03\x04....word/document.xml", "x.docx", MIB),
            Ok(FileKind::Docx)
        );
        assert_eq!(
            detect(b"PK\x03\x04....xl/workbook.xml", "x.xlsx", MIB),
            Ok(FileKind::Xlsx)
        );
        let ole = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest";
        assert_eq!(detect(ole, "old.DOC", MIB), Ok(FileKind::Doc));
        assert_eq!(detect(ole, "old.xls", MIB), Ok(FileKind::Xls));
    }

    #[test]
    fn other_empty_or_large_files_are_refused() {
        assert!(detect(b"", "a.pdf", MIB).unwrap_err().contains("为空"));
        assert!(
            detect(b"MZ\x90\x00", "evil.pdf", MIB).is_err(),
            "a program named .pdf"
        );
        assert!(detect(b"PK\x03\x04 other zip", "x.docx", MIB).is_err());
        assert!(detect(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "x.msi", MIB).is_err());
        assert!(detect(b"<script>", "x.html", MIB).is_err());
        let big = vec![b'%'; MIB + 1];
        assert!(detect(&big, "big.pdf", MIB).unwrap_err().contains("1 MiB"));
    }
}
