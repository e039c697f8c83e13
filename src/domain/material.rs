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

/// Learns what a file is while its bytes stream past, keeping only its first bytes and a few
/// across each chunk boundary: an upload is judged without being held in memory.
#[derive(Debug, Default)]
pub struct Sniffer {
    head: Vec<u8>,
    tail: Vec<u8>,
    size: usize,
    word: bool,
    xl: bool,
}

const HEAD: usize = 8;

impl Sniffer {
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.head.len() < HEAD {
            let take = (HEAD - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        // Names found anywhere in the file, also across the boundary with the last chunk:
        // the last four bytes seen so far, then this chunk's start.
        let mut window = std::mem::take(&mut self.tail);
        window.extend_from_slice(&chunk[..chunk.len().min(8)]);
        for w in [&window[..], chunk] {
            self.word |= contains(w, b"word/");
            self.xl |= contains(w, b"xl/");
        }
        self.tail = if chunk.len() >= 4 {
            chunk[chunk.len() - 4..].to_vec()
        } else {
            // The window is then the old tail and the whole chunk.
            window[window.len().saturating_sub(4)..].to_vec()
        };
        self.size += chunk.len();
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Decides what the file was. Office files in the old binary format (OLE) look alike
    /// inside, so for them the name's extension tells Word from Excel; anything else is
    /// refused with a Chinese reason.
    pub fn finish(&self, file_name: &str, limit_bytes: usize) -> Result<FileKind, String> {
        if self.size == 0 {
            return Err("文件为空".into());
        }
        if self.size > limit_bytes {
            return Err(too_large(limit_bytes));
        }
        let ext = file_name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let bytes = &self.head[..];
        let kind = if bytes.starts_with(b"%PDF-") {
            Some(FileKind::Pdf)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(FileKind::Png)
        } else if bytes.starts_with(b"\xFF\xD8\xFF") {
            Some(FileKind::Jpeg)
        } else if bytes.starts_with(b"PK\x03\x04") {
            // An Office Open XML file is a zip whose entries live under word/ or xl/.
            if self.word {
                Some(FileKind::Docx)
            } else if self.xl {
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
}

pub fn too_large(limit_bytes: usize) -> String {
    format!("文件超过 {} MiB 的上限", limit_bytes / (1024 * 1024))
}

/// Decides what a whole file is (see [`Sniffer::finish`]).
pub fn detect(bytes: &[u8], file_name: &str, limit_bytes: usize) -> Result<FileKind, String> {
    let mut s = Sniffer::default();
    s.feed(bytes);
    s.finish(file_name, limit_bytes)
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
    fn a_file_is_known_from_its_chunks_as_from_its_whole() {
        let docx = b"PK\x03\x04....wo";
        let mut s = Sniffer::default();
        s.feed(docx);
        s.feed(b"rd/document.xml");
        assert_eq!(s.finish("x.docx", MIB), Ok(FileKind::Docx));
        let mut s = Sniffer::default();
        for byte in b"%PDF-1.7 and more" {
            s.feed(&[*byte]);
        }
        assert_eq!(s.finish("a.pdf", MIB), Ok(FileKind::Pdf));
        assert_eq!(s.size(), 17);
        // Byte by byte, a name is still found.
        let mut s = Sniffer::default();
        for byte in b"PK\x03\x04xxxxl/workbook.xml" {
            s.feed(&[*byte]);
        }
        assert_eq!(s.finish("x.xlsx", MIB), Ok(FileKind::Xlsx));
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
