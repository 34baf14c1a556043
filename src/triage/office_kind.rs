//! Kinds of office: the many names replies give one kind of department (“A2区住建局”,
//! “市住房和城乡建设局”, “县建设局”) reduced to one, so that dispatch is learnt and judged by
//! kind; which office of that kind answers is set by the complainant's address.

use std::sync::LazyLock;

use regex::Regex;

/// The territorial government (属地) of a place: a 12345 hotline dispatches what no functional
/// department owns to the district, town or street office where it happens, so every level of
/// it is one kind.
pub const LOCAL_GOVERNMENT: &str = "属地政府";

/// The dispatch label of the offices too rare in resolved history to learn: a dispatch model
/// that reads it leaves the case to the profile's category table.
pub const OTHER_OFFICE: &str = "其他单位";

/// Names of one kind of office that replies write differently (an office renamed or merged in
/// the 2018 reform, a short form, a level or a field unit of the same service), each with the
/// name used for the kind. A name is matched by the office it ends with, the longest first.
const SAME_KIND: [(&[&str], &str); 27] = [
    (
        &[
            "住房和城乡建设局",
            "住房城乡建设局",
            "建设局",
            "城建局",
            "规划建设局",
            "规建局",
            "住建委",
            "质监站",
        ],
        "住建局",
    ),
    (
        &[
            "交通局",
            "交通运输管理局",
            "运管站",
            "运管处",
            "交通行政执法局",
            "交通行政执法大队",
            "运管所",
            "运管局",
        ],
        "交通运输局",
    ),
    (
        &[
            "交警支队",
            "交通警察支队",
            "交通警察大队",
            "交警队",
            "交管中心",
        ],
        "交警大队",
    ),
    (
        &[
            "派出所",
            "公安分局",
            "森林公安局",
            "户籍所",
            "治安支队",
            "治安大队",
            "出入境大队",
        ],
        "公安局",
    ),
    (
        &[
            "人力资源和社会保障局",
            "劳动和社会保障局",
            "社会劳动保险局",
            "人社厅",
            "社保局",
            "劳动保障监察服务中心",
            "劳动监察大队",
        ],
        "人社局",
    ),
    (&["环境保护局", "环保局", "环境监察大队"], "生态环境局"),
    (
        &[
            "卫生局",
            "卫计委",
            "卫计局",
            "卫生和计划生育局",
            "卫生健康委员会",
            "卫健局",
            "卫生计生综合监督执法局",
        ],
        "卫健委",
    ),
    (
        &[
            "政府",
            "镇政府",
            "人民政府",
            "镇党委政府",
            "党委政府",
            "各级政府",
            "乡政府",
            "党委",
            "管委会",
            "管理委员会",
            "村委",
            "村委会",
            "两委",
            "居委会",
            "社区",
            "街道",
            "街道办事处",
            "办事处",
            "委办公室",
        ],
        LOCAL_GOVERNMENT,
    ),
    (&["教育体育局", "教体局"], "教育局"),
    (
        &[
            "城管大队",
            "城市管理局",
            "城管执法局",
            "城市管理和综合执法局",
            "城管执法大队",
            "城管执法中队",
            "执法中队",
            "执法大队",
            "行政执法局",
            "环卫局",
        ],
        "城管局",
    ),
    (&["自来水有限公司", "供水公司"], "自来水公司"),
    (
        &["公汽公司", "公交总公司", "公交集团公司", "公交集团"],
        "公交公司",
    ),
    (
        &["房产局", "房产局物管中心", "房产管理局", "房屋交易管理中心"],
        "房管局",
    ),
    (
        &[
            "国土局",
            "国土资源局",
            "规划局",
            "规划分局",
            "自然资源和规划局",
            "不动产登记中心",
        ],
        "自然资源局",
    ),
    (
        &[
            "工商分局",
            "工商局",
            "市场监管局",
            "市场局",
            "质监局",
            "食安局",
            "物价局",
            "食品药品监督管理局",
        ],
        "市场监督管理局",
    ),
    (&["民政民族宗教局"], "民政局"),
    (&["商务粮食局", "商粮局", "商务和粮食局"], "商务局"),
    (&["电力公司", "供电局", "电力局", "供电所"], "供电公司"),
    (
        &[
            "电信局",
            "电信公司",
            "移动公司",
            "移动通信公司",
            "联通公司",
            "铁塔公司",
        ],
        "通信运营商",
    ),
    (&["公积金管理中心"], "住房公积金管理中心"),
    (
        &[
            "医疗保障局",
            "医疗保险管理服务中心",
            "医疗保险服务中心",
            "医保中心",
        ],
        "医保局",
    ),
    (&["农委", "农业农村局"], "农业局"),
    (&["水务局", "水务站"], "水利局"),
    (&["发改局"], "发改委"),
    (&["安监局"], "应急管理局"),
    (&["园林处"], "园林局"),
    (&["消防支队"], "消防大队"),
];

/// Whether two department names denote the same kind of office ([`canonical_department`]).
pub fn same_kind(a: &str, b: &str) -> bool {
    canonical_department(a) == canonical_department(b)
}

/// The kind of department a name denotes, without its place (`A市`, `A2区`, `龙潭镇`, `市`)
/// and leading function words, so that “市人社局” and “县人社局”, or “A5区教育局” and
/// “市教育局”, compare equal: which office of that kind is set by the complainant's address.
pub fn canonical_department(name: &str) -> String {
    static PLACE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^(?:至|了|原|其|对|入|将|由|向|到|给|和|与|及|根据|以上为)?(?:[A-Z][0-9]*[市县区]|[\p{Han}]{1,4}?[市县区镇乡](?:人民)?|市|县|区|省)*",
        )
        .expect("valid regex")
    });
    let mut at = PLACE.find(name).map_or(0, |m| m.end());
    // In “市政” (municipal works) and “市场” (markets) the 市 is no place: “区市政局”.
    if name[..at].ends_with('市') && (name[at..].starts_with('政') || name[at..].starts_with('场'))
    {
        at -= '市'.len_utf8();
    }
    let rest = &name[at..];
    let kind = if rest.is_empty() { name } else { rest };
    // Any property company is one kind (物业公司), as any street office is a 属地政府.
    if kind.ends_with("物业公司") || kind.ends_with("物业") || kind.ends_with("物业有限公司")
    {
        return "物业公司".into();
    }
    // The office a name ends with decides (“公安局交警大队” is a 交警大队), the longest first.
    SAME_KIND
        .iter()
        .flat_map(|(names, canonical)| {
            names
                .iter()
                .chain(std::iter::once(canonical))
                .map(move |n| (*n, *canonical))
        })
        .filter(|(n, _)| kind.ends_with(n))
        .max_by_key(|(n, _)| n.chars().count())
        .map_or_else(|| kind.to_string(), |(_, canonical)| canonical.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_kind_of_office_compares_equal_whatever_its_name() {
        for (a, b) in [
            ("A市住房和城乡建设局", "县住建局"),
            ("A2区建设局", "住建局"),
            ("市交通局", "A市交通运输局"),
            ("县公安局交警大队", "交警支队"),
            ("A3区环保局", "市生态环境局"),
            ("龙潭镇人民政府", "镇政府"),
            ("奇家岭街道", "榔梨街道办事处"),
        ] {
            assert_eq!(
                canonical_department(a),
                canonical_department(b),
                "{a} / {b}"
            );
        }
        assert_ne!(
            canonical_department("市教育局"),
            canonical_department("市住建局")
        );
    }

    #[test]
    fn kinds_follow_the_2018_reform_and_the_territorial_offices() {
        // Field units and renamed offices, as replies in the reply history write them.
        for (name, kind) in [
            ("望月湖派出所", "公安局"),
            ("A3区城管执法大队", "城管局"),
            ("县卫计局", "卫健委"),
            ("市社保局", "人社局"),
            ("A市规划局", "自然资源局"),
            ("区食安局", "市场监督管理局"),
            ("商务粮食局", "商务局"),
            ("玉潭街道", LOCAL_GOVERNMENT),
            ("赛头村村委", LOCAL_GOVERNMENT),
            ("A7县人民政府", LOCAL_GOVERNMENT),
            ("达博物业公司", "物业公司"),
            ("区市政局", "市政局"),
            ("A8县市市场监督管理局", "市场监督管理局"),
            ("A市政府", LOCAL_GOVERNMENT),
            ("县公安局交管中心", "交警大队"),
            ("至医疗保障局", "医保局"),
            ("安沙供电所", "供电公司"),
        ] {
            assert_eq!(canonical_department(name), kind, "{name}");
        }
    }
}
