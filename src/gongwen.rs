//! Word documents in the form of official documents (公文, GB/T 9704-2012): A4 with the
//! standard's margins and a grid of 22 lines of 28 characters, the marks of the 版头 (份号,
//! 密级★保密期限, the issuer's mark, 发文字号), the title in 2号小标宋, the body in 3号仿宋,
//! page numbers in 4号宋体 set outside like the standard's, and the 版记 at the end. The summary
//! (纪要), the meeting notice (会议通知) and the year's compilation are built with it.

use docx_rs::{
    AlignmentType, BorderType, BreakType, DocGrid, DocGridType, Docx, FieldCharType, Footer,
    InstrPAGE, InstrText, PageMargin, Paragraph, ParagraphBorder, ParagraphBorderPosition, Run,
    RunFonts, Settings, SpecialIndentType,
};

/// Twentieths of a point in a millimetre.
const TWIPS_PER_MM: f64 = 1440.0 / 25.4;

fn mm(v: f64) -> i32 {
    (v * TWIPS_PER_MM).round() as i32
}

/// A4, 210 × 297 mm.
pub const PAGE_MM: (f64, f64) = (210.0, 297.0);
/// 天头 37 mm, 订口 (binding, left) 28 mm; the text block 156 × 225 mm (so 26 mm right and
/// 35 mm below).
pub const TOP_MM: f64 = 37.0;
pub const BINDING_MM: f64 = 28.0;
pub const TEXT_MM: (f64, f64) = (156.0, 225.0);
/// 22 lines of 28 characters.
pub const LINES: i32 = 22;
pub const CHARS: i32 = 28;

/// Font sizes in half-points: 二号 22 pt, 三号 16 pt, 四号 14 pt.
const ERHAO: usize = 44;
const SANHAO: usize = 32;
const SIHAO: usize = 28;

/// The grid's line pitch in twips: the text block's height over 22 lines.
pub fn line_pitch() -> usize {
    (TEXT_MM.1 * TWIPS_PER_MM / f64::from(LINES)).floor() as usize
}

/// The grid's character spacing (4096ths of a point added to the 3号 body font's width) that
/// puts 28 characters on a line of the text block.
pub fn char_space() -> isize {
    let pitch_pt = TEXT_MM.0 * TWIPS_PER_MM / f64::from(CHARS) / 20.0;
    ((pitch_pt - (SANHAO as f64 / 2.0)) * 4096.0).round() as isize
}

fn xiaobiaosong() -> RunFonts {
    RunFonts::new()
        .east_asia("方正小标宋简体")
        .ascii("方正小标宋简体")
}
fn fangsong() -> RunFonts {
    RunFonts::new()
        .east_asia("仿宋_GB2312")
        .ascii("仿宋_GB2312")
}
fn heiti() -> RunFonts {
    RunFonts::new().east_asia("黑体").ascii("黑体")
}
fn songti() -> RunFonts {
    RunFonts::new().east_asia("宋体").ascii("宋体")
}

fn run(text: &str, fonts: RunFonts, size: usize) -> Run {
    Run::new().add_text(text).fonts(fonts).size(size)
}

/// A block of the body.
pub enum Block {
    /// A part's title in 2号小标宋, centred (each summary of a compilation).
    Title(String),
    /// A first-level heading in 3号黑体 (一、二、…).
    Heading(String),
    /// A paragraph in 3号仿宋, first line indented two characters.
    Para(String),
    /// A label in 3号黑体 followed by text in 3号仿宋, indented two characters (出席:…).
    Labelled(&'static str, String),
    /// A page break (between the parts of a compilation).
    PageBreak,
}

/// One official document.
pub struct Document {
    /// 份号: this copy's number, set in six digits.
    pub copy_no: Option<u32>,
    /// 密级★保密期限, e.g. "秘密★10年"; none for an unclassified document.
    pub secrecy: Option<String>,
    /// 发文机关标志, e.g. "州医疗保障局党组会议纪要", in red.
    pub issuer_mark: String,
    /// 发文字号, e.g. "医保党组纪〔2030〕1号".
    pub doc_no: Option<String>,
    pub title: String,
    pub body: Vec<Block>,
    /// 版记: whom it is distributed to (分送), who prints it and when.
    pub distribution: String,
    pub printed_by: String,
    pub printed_on: String,
    /// A line under the page numbers (the audit anchor of a signed summary), 小五号.
    pub footnote: Option<String>,
}

/// The red of the issuer's mark and the separator line.
const RED: &str = "FF0000";

fn line(position: ParagraphBorderPosition, color: &str, eighths_pt: usize) -> ParagraphBorder {
    ParagraphBorder::new(position)
        .val(BorderType::Single)
        .size(eighths_pt)
        .color(color)
}

fn with_border(mut p: Paragraph, border: ParagraphBorder) -> Paragraph {
    p.property = p.property.set_border(border);
    p
}

/// A page number footer: "— 1 —" in 4号宋体, a character in from the outer edge (right on odd
/// pages, left on even ones).
fn page_footer(align: AlignmentType, footnote: Option<&str>) -> Footer {
    let one_char = 280; // 四号 = 14 pt
    let (left, right) = match align {
        AlignmentType::Left => (Some(one_char), None),
        _ => (None, Some(one_char)),
    };
    let number = Paragraph::new()
        .align(align)
        .indent(left, None, right, None)
        .add_run(run("— ", songti(), SIHAO))
        .add_run(
            Run::new()
                .fonts(songti())
                .size(SIHAO)
                .add_field_char(FieldCharType::Begin, false)
                .add_instr_text(InstrText::PAGE(InstrPAGE {}))
                .add_field_char(FieldCharType::Separate, false)
                .add_text("1")
                .add_field_char(FieldCharType::End, false),
        )
        .add_run(run(" —", songti(), SIHAO));
    let mut footer = Footer::new().add_paragraph(number);
    if let Some(note) = footnote {
        footer = footer.add_paragraph(Paragraph::new().add_run(run(note, fangsong(), 18)));
    }
    footer
}

/// The document as the bytes of a .docx.
pub fn build(doc: &Document) -> anyhow::Result<Vec<u8>> {
    let right = PAGE_MM.0 - BINDING_MM - TEXT_MM.0;
    let bottom = PAGE_MM.1 - TOP_MM - TEXT_MM.1;
    let mut docx = Docx::new()
        .page_size(mm(PAGE_MM.0) as u32, mm(PAGE_MM.1) as u32)
        .page_margin(
            PageMargin::new()
                .top(mm(TOP_MM))
                .left(mm(BINDING_MM))
                .right(mm(right))
                .bottom(mm(bottom))
                .footer(mm(bottom) - mm(7.0) * 2),
        )
        .default_fonts(fangsong())
        .default_size(SANHAO)
        .settings(Settings::new().even_and_odd_headers())
        .footer(page_footer(AlignmentType::Right, doc.footnote.as_deref()))
        .even_footer(page_footer(AlignmentType::Left, doc.footnote.as_deref()));
    docx.document = docx.document.doc_grid(
        DocGrid::new()
            .grid_type(DocGridType::LinesAndChars)
            .line_pitch(line_pitch())
            .char_space(char_space()),
    );

    // 版头: 份号 and 密级 at the top left in 3号黑体, the issuer's mark, 发文字号, the red line.
    if let Some(n) = doc.copy_no {
        docx =
            docx.add_paragraph(Paragraph::new().add_run(run(&format!("{n:06}"), heiti(), SANHAO)));
    }
    if let Some(s) = &doc.secrecy {
        docx = docx.add_paragraph(Paragraph::new().add_run(run(s, heiti(), SANHAO)));
    }
    docx = docx.add_paragraph(
        Paragraph::new()
            .align(AlignmentType::Center)
            .add_run(run(&doc.issuer_mark, xiaobiaosong(), ERHAO).color(RED)),
    );
    let mark_line = Paragraph::new().align(AlignmentType::Center);
    let mark_line = match &doc.doc_no {
        Some(no) => mark_line.add_run(run(no, fangsong(), SANHAO)),
        None => mark_line,
    };
    docx = docx.add_paragraph(with_border(
        mark_line,
        line(ParagraphBorderPosition::Bottom, RED, 12),
    ));

    // 主体: the title, then the body.
    docx = docx.add_paragraph(Paragraph::new().align(AlignmentType::Center).add_run(run(
        &doc.title,
        xiaobiaosong(),
        ERHAO,
    )));
    let indented = || {
        Paragraph::new().align(AlignmentType::Both).indent(
            None,
            Some(SpecialIndentType::FirstLine(640)),
            None,
            None,
        )
    };
    for block in &doc.body {
        docx = docx.add_paragraph(match block {
            Block::Title(t) => {
                Paragraph::new()
                    .align(AlignmentType::Center)
                    .add_run(run(t, xiaobiaosong(), ERHAO))
            }
            Block::Heading(t) => indented().add_run(run(t, heiti(), SANHAO)),
            Block::Para(t) => indented().add_run(run(t, fangsong(), SANHAO)),
            Block::Labelled(label, t) => indented()
                .add_run(run(&format!("{label}:"), heiti(), SANHAO))
                .add_run(run(t, fangsong(), SANHAO)),
            Block::PageBreak => Paragraph::new().add_run(Run::new().add_break(BreakType::Page)),
        });
    }

    // 版记: distribution and printing lines in 4号仿宋 between rules.
    let edge = |p: Paragraph| p.indent(Some(280), None, Some(280), None);
    docx = docx.add_paragraph(Paragraph::new());
    docx = docx.add_paragraph(with_border(
        with_border(
            edge(Paragraph::new().add_run(run(
                &format!("分送:{}", doc.distribution),
                fangsong(),
                SIHAO,
            ))),
            line(ParagraphBorderPosition::Top, "000000", 8),
        ),
        line(ParagraphBorderPosition::Bottom, "000000", 4),
    ));
    docx = docx.add_paragraph(with_border(
        edge(
            Paragraph::new()
                .add_run(run(&doc.printed_by, fangsong(), SIHAO))
                .add_run(run(&format!("  {}印发", doc.printed_on), fangsong(), SIHAO)),
        ),
        line(ParagraphBorderPosition::Bottom, "000000", 8),
    ));

    let mut out = std::io::Cursor::new(Vec::new());
    docx.build()
        .pack(&mut out)
        .map_err(|e| anyhow::anyhow!("docx: {e}"))?;
    Ok(out.into_inner())
}

/// 发文字号's year in the standard's brackets: 〔2030〕.
pub fn doc_no(prefix: &str, year: i32, number: u32) -> String {
    format!("{prefix}〔{year}〕{number}号")
}

/// A meeting's number in its year, from a title such as "2030年第3次党组会议": the number
/// of its 发文字号.
pub fn number_in_title(title: &str) -> Option<u32> {
    let (_, rest) = title.split_once('第')?;
    rest.split_once('次')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_22_lines_of_28_characters_on_the_text_block() {
        // 225 mm / 22 = 10.23 mm = 579 twips; 156 mm / 28 = 15.79 pt, 0.21 pt under 三号.
        assert_eq!(line_pitch(), 579);
        assert_eq!(char_space(), -848);
        assert_eq!(mm(TOP_MM), 2098);
        assert_eq!(mm(BINDING_MM), 1587);
        assert_eq!(mm(210.0 - 28.0 - 156.0), 1474);
        assert_eq!(mm(297.0 - 37.0 - 225.0), 1984);
    }

    #[test]
    fn the_document_number_uses_the_standards_brackets() {
        assert_eq!(doc_no("党组纪", 2030, 1), "党组纪〔2030〕1号");
        assert_eq!(number_in_title("2030年第3次党组会议"), Some(3));
        assert_eq!(number_in_title("2030年第12次党组会议"), Some(12));
        assert_eq!(number_in_title("专题会议"), None);
    }
}
