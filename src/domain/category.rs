//! The 33 matter categories of 第十一条 in their six groups (R-CATEGORY). The category drives
//! which prerequisites apply and which rules (ad hoc, one person one item, half-yearly
//! hearings) concern a topic.

/// A category of 第十一条, 1–33.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Category(u8);

const LABELS: [&str; 33] = [
    "学习计划与民主生活会方案",
    "党组成员与行政班子成员分工",
    "作风建设规定",
    "党风廉政建设规定",
    "工作规则与重要制度",
    "年度述职述德述廉报告",
    "班子建设重要请示报告",
    "其他班子建设事项",
    "贯彻落实上级精神的意见措施",
    "维稳与平安建设、突发事件处置",
    "方针、战略规划、政策法规草案与标准",
    "医保、生育保险政策、基金监管、目录与支付标准、定点协议",
    "基金预决算草案",
    "以党组名义发表的文章与讲话",
    "其他医疗保障重大事项",
    "综治平安、意识形态、访惠聚、民族团结",
    "机关管理体制改革与发展规划",
    "精神文明建设(每半年听取汇报)",
    "以党组名义的请示报告与下发文件",
    "绩效考核指标体系",
    "表彰与推荐方案",
    "其他机关重大事项",
    "机构设置、职能调整、人员编制",
    "干部任免、调动、培训、奖惩、考核、推荐、招录",
    "干部队伍建设制度措施",
    "激励关怀帮扶干部职工",
    "党建工作责任制与年度要点",
    "党风廉政建设与反腐败(每半年听取汇报)",
    "基层党组织建设(每半年听取汇报)",
    "工会、团委、妇委会工作(每半年听取汇报)",
    "预算编制与执行",
    "基本建设立项、大额国有资产处置",
    "大额资金使用方案",
];

/// The six groups of 第十一条.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CategoryGroup {
    /// (一) 领导班子自身建设
    Leadership,
    /// (二) 医疗保障工作重大事项和重大决策
    MedicalSecurity,
    /// (三) 局机关重大事项和重大决策
    Bureau,
    /// (四) 机构编制和干部管理
    Personnel,
    /// (五) 党的建设
    PartyBuilding,
    /// (六) 重大项目安排和大额资金使用
    ProjectsAndFunds,
}

impl CategoryGroup {
    pub const ALL: [CategoryGroup; 6] = [
        CategoryGroup::Leadership,
        CategoryGroup::MedicalSecurity,
        CategoryGroup::Bureau,
        CategoryGroup::Personnel,
        CategoryGroup::PartyBuilding,
        CategoryGroup::ProjectsAndFunds,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            CategoryGroup::Leadership => "领导班子自身建设",
            CategoryGroup::MedicalSecurity => "医疗保障工作重大事项和重大决策",
            CategoryGroup::Bureau => "局机关重大事项和重大决策",
            CategoryGroup::Personnel => "机构编制和干部管理",
            CategoryGroup::PartyBuilding => "党的建设",
            CategoryGroup::ProjectsAndFunds => "重大项目安排和大额资金使用",
        }
    }

    /// The categories of this group, in order.
    pub fn categories(self) -> impl Iterator<Item = Category> {
        Category::all().filter(move |c| c.group() == self)
    }
}

impl Category {
    /// R-CATEGORY (第十一条): a topic belongs to one of the 33 categories.
    pub fn new(number: i64) -> Result<Category, String> {
        u8::try_from(number)
            .ok()
            .filter(|n| (1..=33).contains(n))
            .map(Category)
            .ok_or_else(|| "议题类别须为第十一条所列第 1–33 项之一".to_owned())
    }

    pub fn all() -> impl Iterator<Item = Category> {
        (1..=33).map(Category)
    }

    pub fn number(self) -> u8 {
        self.0
    }

    pub fn label_zh(self) -> &'static str {
        LABELS[usize::from(self.0 - 1)]
    }

    pub fn group(self) -> CategoryGroup {
        match self.0 {
            1..=8 => CategoryGroup::Leadership,
            9..=15 => CategoryGroup::MedicalSecurity,
            16..=22 => CategoryGroup::Bureau,
            23..=26 => CategoryGroup::Personnel,
            27..=30 => CategoryGroup::PartyBuilding,
            _ => CategoryGroup::ProjectsAndFunds,
        }
    }

    /// 组织人事 matters (categories 23–26): never added ad hoc (R-AD-HOC).
    pub fn is_personnel(self) -> bool {
        self.group() == CategoryGroup::Personnel
    }

    /// 干部选拔任用 (category 24): R-PREREQ-PERSONNEL and R-ONE-PERSON-ONE-ITEM apply.
    pub fn is_cadre_appointment(self) -> bool {
        self.0 == 24
    }

    /// The reports heard every half year (categories 18, 28, 29, 30; R-HALF-YEAR).
    pub fn is_half_yearly_hearing(self) -> bool {
        matches!(self.0, 18 | 28 | 29 | 30)
    }

    /// Categories whose amounts R-LARGE-SPEND measures (32 asset disposals, 33 fund uses).
    pub fn is_spending(self) -> bool {
        matches!(self.0, 32 | 33)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_category_accepts_1_to_33_only() {
        assert!(Category::new(0).is_err());
        assert!(Category::new(34).is_err());
        assert!(Category::new(-24).is_err());
        assert!(Category::new(i64::MAX).is_err());
        assert_eq!(Category::new(1).unwrap().number(), 1);
        assert_eq!(Category::new(33).unwrap().label_zh(), "大额资金使用方案");
    }

    #[test]
    fn r_category_groups_partition_the_33_categories() {
        let sizes: Vec<usize> = CategoryGroup::ALL
            .iter()
            .map(|g| g.categories().count())
            .collect();
        assert_eq!(sizes, [8, 7, 7, 4, 4, 3]);
        assert_eq!(Category::all().count(), 33);
    }

    #[test]
    fn flags_follow_rules_md() {
        let with = |f: fn(Category) -> bool| -> Vec<u8> {
            Category::all()
                .filter(|c| f(*c))
                .map(Category::number)
                .collect()
        };
        assert_eq!(with(Category::is_personnel), [23, 24, 25, 26]);
        assert_eq!(with(Category::is_cadre_appointment), [24]);
        assert_eq!(with(Category::is_half_yearly_hearing), [18, 28, 29, 30]);
        assert_eq!(with(Category::is_spending), [32, 33]);
    }
}
