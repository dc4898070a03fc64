//! The complaint categories Rongtook knows by name: the services of the Open311 face, the
//! categories of generated years, and their names in Thai and English. The wire format accepts
//! any non-blank category (imports carry their source's own); these are the ones with names.

/// A known category: its code and its names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Category {
    pub code: &'static str,
    pub th: &'static str,
    pub en: &'static str,
}

const fn c(code: &'static str, th: &'static str, en: &'static str) -> Category {
    Category { code, th, en }
}

/// The 24 known categories.
pub const KNOWN: [Category; 24] = [
    c("road", "ถนน", "Road"),
    c("sidewalk", "ทางเท้า", "Sidewalk"),
    c("cleanliness", "ความสะอาด", "Cleanliness"),
    c("flooding", "น้ำท่วม", "Flooding"),
    c("drainage", "ท่อระบายน้ำ", "Drainage"),
    c("electricity", "ไฟฟ้า", "Electricity"),
    c("obstruction", "กีดขวาง", "Obstruction"),
    c("traffic", "จราจร", "Traffic"),
    c("safety", "ความปลอดภัย", "Safety"),
    c("trees", "ต้นไม้", "Trees"),
    c("bridge", "สะพาน", "Bridge"),
    c("canal", "คลอง", "Canal"),
    c("noise", "เสียงรบกวน", "Noise"),
    c("complaint", "ร้องเรียน", "Complaint"),
    c("power_lines", "สายไฟ", "Power lines"),
    c("signage", "ป้าย", "Signage"),
    c("lighting", "แสงสว่าง", "Lighting"),
    c("homeless", "คนไร้บ้าน", "Homeless"),
    c("stray_animals", "สัตว์จรจัด", "Stray animals"),
    c("pm25", "PM2.5", "PM2.5"),
    c("transit", "การเดินทาง", "Transit"),
    c("suggestion", "เสนอแนะ", "Suggestion"),
    c("toilets", "ห้องน้ำ", "Toilets"),
    c("traffic_signs", "ป้ายจราจร", "Traffic signs"),
];

/// The codes of the known categories.
pub const CODES: [&str; 24] = {
    let mut out = [""; 24];
    let mut i = 0;
    while i < 24 {
        out[i] = KNOWN[i].code;
        i += 1;
    }
    out
};

/// A known category by its code.
pub fn known(code: &str) -> Option<&'static Category> {
    KNOWN.iter().find(|c| c.code == code)
}

/// How a category is shown in English: its known name, or its code with the first letter
/// capitalised and underscores as spaces.
pub fn display_name(code: &str) -> String {
    if let Some(c) = known(code) {
        return c.en.to_string();
    }
    let mut n = code.replace('_', " ");
    if let Some(first) = n.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    n
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_unique_and_named() {
        let mut codes = super::CODES.to_vec();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 24);
        assert!(super::KNOWN
            .iter()
            .all(|c| !c.th.is_empty() && !c.en.is_empty()));
        assert_eq!(super::known("noise").map(|c| c.th), Some("เสียงรบกวน"));
        assert_eq!(super::known("nothing"), None);
    }
}
