//! Word pools of the demo generator: Chinese and foreign companies, visitor names in
//! Chinese characters and pinyin, staff, hotels, venues and texts.

use rand::seq::IndexedRandom;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// A surname in Chinese characters and in pinyin.
const SURNAMES: &[(&str, &str)] = &[
    ("王", "Wang"),
    ("李", "Li"),
    ("张", "Zhang"),
    ("刘", "Liu"),
    ("陈", "Chen"),
    ("杨", "Yang"),
    ("赵", "Zhao"),
    ("黄", "Huang"),
    ("周", "Zhou"),
    ("吴", "Wu"),
    ("徐", "Xu"),
    ("孙", "Sun"),
    ("胡", "Hu"),
    ("朱", "Zhu"),
    ("高", "Gao"),
    ("林", "Lin"),
    ("何", "He"),
    ("郭", "Guo"),
    ("马", "Ma"),
    ("罗", "Luo"),
];

/// A given name in Chinese characters and in pinyin.
const GIVEN: &[(&str, &str)] = &[
    ("伟", "Wei"),
    ("芳", "Fang"),
    ("娜", "Na"),
    ("敏", "Min"),
    ("静", "Jing"),
    ("丽", "Li"),
    ("强", "Qiang"),
    ("磊", "Lei"),
    ("军", "Jun"),
    ("洋", "Yang"),
    ("勇", "Yong"),
    ("艳", "Yan"),
    ("杰", "Jie"),
    ("涛", "Tao"),
    ("明", "Ming"),
    ("超", "Chao"),
    ("秀英", "Xiuying"),
    ("建国", "Jianguo"),
    ("志强", "Zhiqiang"),
    ("海燕", "Haiyan"),
];

const CN_BRANDS: &[(&str, &str)] = &[
    ("华鑫", "Huaxin"),
    ("东方", "Dongfang"),
    ("恒通", "Hengtong"),
    ("金鹏", "Jinpeng"),
    ("瑞丰", "Ruifeng"),
    ("宏达", "Hongda"),
    ("长江", "Changjiang"),
    ("中联", "Zhonglian"),
    ("新天", "Xintian"),
    ("鼎盛", "Dingsheng"),
    ("永利", "Yongli"),
    ("九州", "Jiuzhou"),
];

const CN_REGIONS: &[(&str, &str)] = &[
    ("山东", "Shandong"),
    ("江苏", "Jiangsu"),
    ("河南", "Henan"),
    ("四川", "Sichuan"),
    ("广东", "Guangdong"),
    ("浙江", "Zhejiang"),
    ("湖北", "Hubei"),
    ("黑龙江", "Heilongjiang"),
    ("新疆", "Xinjiang"),
    ("河北", "Hebei"),
];

const CN_TRADES: &[(&str, &str)] = &[
    ("农机经销", "Agricultural Machinery Dealers"),
    ("工程机械", "Construction Machinery"),
    ("汽车贸易", "Auto Trading"),
    ("物流", "Logistics"),
    ("重工", "Heavy Industry"),
    ("进出口", "Import & Export"),
];

const CN_TITLES: &[(&str, &str)] = &[
    ("总经理", "General Manager"),
    ("采购经理", "Purchasing Manager"),
    ("技术员", "Technician"),
    ("董事长", "Chairman"),
    ("销售经理", "Sales Manager"),
    ("服务经理", "Service Manager"),
    ("设计师", "Designer"),
    ("副局长", "Deputy Director"),
];

/// Foreign customers: company, ISO country code, visitor names.
const FOREIGN: &[(&str, &str, &[&str])] = &[
    (
        "Müller Agrartechnik GmbH",
        "DE",
        &["Anna Schmidt", "Jonas Müller", "Lena Weber"],
    ),
    (
        "Agro Pampa S.A.",
        "AR",
        &["Martín Gómez", "Lucía Fernández", "Diego Romero"],
    ),
    (
        "Tashkent Motors LLC",
        "UZ",
        &["Aziz Karimov", "Dilnoza Rashidova", "Timur Yusupov"],
    ),
    (
        "Nile Valley Equipment Co.",
        "EG",
        &["Ahmed Hassan", "Mona Farouk", "Omar Saleh"],
    ),
    (
        "Siam Tractor Co., Ltd.",
        "TH",
        &["Somchai Prasert", "Napat Chaiyo", "Kanya Srisuk"],
    ),
    (
        "Saigon Machinery JSC",
        "VN",
        &["Nguyễn Văn An", "Trần Thị Hoa", "Lê Minh Đức"],
    ),
    (
        "Kazakh Agro Trade LLP",
        "KZ",
        &["Yerlan Abenov", "Aigerim Nurlanova", "Daniyar Seitkali"],
    ),
    (
        "Andes Maquinaria S.A.C.",
        "PE",
        &["Carlos Quispe", "Rosa Huamán", "Jorge Salazar"],
    ),
    (
        "Lagos Heavy Equipment Ltd",
        "NG",
        &["Chinedu Okafor", "Amaka Eze", "Tunde Bello"],
    ),
    (
        "Volga Tekhnika OOO",
        "RU",
        &["Ivan Petrov", "Olga Smirnova", "Sergei Volkov"],
    ),
];

const FOREIGN_TITLES: &[&str] = &[
    "CEO",
    "Purchasing Director",
    "Service Manager",
    "Sales Director",
    "Engineer",
];

/// Requesting departments.
pub const DEPARTMENTS: &[&str] = &[
    "east-sales",
    "north-sales",
    "south-sales",
    "west-sales",
    "export-sales",
    "government-affairs",
    "after-sales",
];

/// Reception specialists who host visits.
pub const HOSTS: &[&str] = &[
    "Li Na",
    "Zhang Wei",
    "Wang Fang",
    "Liu Yang",
    "陈静",
    "Zhao Lei",
];

/// Staff to accompany a visit, by policy role id (level roles and V27's support roles).
pub fn staff_for_role(role: &str) -> &'static str {
    match role {
        "salesperson" => "Sun Hao",
        "regional_manager" => "Xu Li",
        "market_supervisor" => "He Ping",
        "marketing_general_manager" => "马骏",
        "shareholder" => "Gao Jianguo",
        "photographer" => "Lu Yan",
        "minute_taker" => "沈佳",
        "interpreter" => "Fang Qing",
        "driver" => "Driver Qian",
        _ => "Zhou Bin",
    }
}

/// The approver users of V22: each requesting department's manager, and the general
/// manager, a different person, who also approves special visits.
pub fn department_manager(department: &str) -> &'static str {
    match department {
        "east-sales" => "qian.hong",
        "north-sales" => "sun.tao",
        "south-sales" => "huang.min",
        "west-sales" => "guo.jie",
        "export-sales" => "lin.ya",
        "government-affairs" => "yang.bo",
        _ => "he.xin",
    }
}
pub const GENERAL_MANAGER: &str = "ma.jun";

/// Departments that bear a visit's cost when it is not the requester's (V22).
pub const COST_DEPARTMENTS: &[&str] = &[
    "marketing-center",
    "export-sales",
    "after-sales",
    "general-office",
    "government-affairs",
];

/// Senior staff who receive senior visitors at home (V29).
pub const HOME_HOSTS: &[&str] = &["Vice President Lin Tao", "General Manager 马骏", "Xu Li"];

/// Company leaders who meet visitors.
pub const LEADERS: &[&str] = &[
    "Chairman Gao Jianguo",
    "General Manager 马骏",
    "Vice President Lin Tao",
];

/// Company-paid (4–5 star) and visitor-paid hotels: name, stars.
pub const HOTELS_PREMIUM: &[(&str, u8)] = &[
    ("Shangri-La Hotel", 5),
    ("Sheraton Jinan", 5),
    ("锦江国际酒店", 4),
    ("Holiday Inn City Centre", 4),
    ("Kempinski Hotel", 5),
];
pub const HOTELS_BUDGET: &[(&str, u8)] = &[
    ("Home Inn", 2),
    ("汉庭酒店", 3),
    ("Ji Hotel", 3),
    ("Atour Hotel", 4),
];

/// Restaurants for lunch and dinner.
pub const VENUES: &[&str] = &[
    "Company canteen, VIP room",
    "全聚德烤鸭店",
    "Xiangjiang Restaurant",
    "Jinjiang banquet hall",
    "湘江大酒店",
    "Lakeside Teahouse",
];

/// Entertainment and sightseeing.
pub const ENTERTAINMENT: &[&str] = &[
    "Baotu Spring sightseeing",
    "KTV evening",
    "Tea ceremony",
    "Mount Tai day trip",
    "Acrobatics show",
];

/// Tours.
pub const TOURS: &[(&str, &str)] = &[
    ("Marketing center", "Product line-up presentation"),
    ("Showroom", "New tractor series walk-through"),
    ("Factory, assembly hall 2", "Assembly line tour"),
    ("R&D center", "Test track demonstration"),
];

/// Souvenirs with unit cost in yuan, cheapest first: the generator picks those within
/// the level's gift item cap (V25: 100 yuan senior, 200 special by default).
pub const SOUVENIRS: &[(&str, i64)] = &[
    ("Company porcelain cup", 58),
    ("Calligraphy fan", 75),
    ("Longjing tea tin", 88),
    ("Silk scarf", 96),
    ("Shandong jade pendant", 150),
    ("Scale model tractor", 180),
    ("Longjing tea gift box", 198),
];
/// A gift over every default item cap, given only on an approver's override.
pub const SOUVENIR_OVER_CAP: (&str, i64) = ("Company porcelain vase", 680);
/// Where gifts are bought.
pub const GIFT_SHOPS: &[&str] = &["Jinan Friendship Store", "company gift store", "泉城礼品店"];

/// Cooperation matters.
pub const MATTERS: &[&str] = &[
    "Dealership renewal for 2 years",
    "Joint after-sales service station",
    "Pilot order of 20 harvesters",
    "Spare-parts warehouse in the region",
    "Training program for dealer technicians",
    "Exclusive distribution in the province",
];

/// Follow-up actions on a confirmed matter (V28).
pub const FOLLOW_UPS: &[&str] = &[
    "send the draft contract to the customer",
    "quote prices for the pilot order",
    "schedule the technicians' training",
    "visit the customer's site with after-sales",
    "send the spare-parts list and delivery times",
];

/// What customers suggest in the return call (V30).
pub const SUGGESTIONS: &[&str] = &[
    "send the itinerary a day earlier",
    "more time on the test track",
    "a Russian-speaking interpreter next time",
    "hold the talks before the factory tour",
    "a quieter hotel closer to the plant",
];

/// Preferences and taboos for the archive: kind, text.
pub const PREFERENCES: &[(&str, &str)] = &[
    ("diet", "no pork"),
    ("diet", "vegetarian"),
    ("diet", "不吃辣 (no spicy food)"),
    ("religion", "halal meals only"),
    ("room", "high floor, quiet room"),
    ("taboo", "avoid room numbers with 4"),
    ("drink", "does not drink alcohol"),
    ("interest", "likes calligraphy"),
];

/// Walk-in reasons at the front desk.
pub const WALK_IN_REASONS: &[&str] = &[
    "delivery",
    "job interview",
    "supplier meeting",
    "equipment maintenance",
    "document pickup",
];

/// Complaint categories and descriptions, by kind.
pub const COMPLAINTS_MINOR: &[(&str, &str)] = &[
    ("transport", "the pickup car arrived 20 minutes late"),
    ("lodging", "the hotel room was not ready at check-in"),
    ("meals", "the dinner menu ignored the noted diet"),
];
pub const COMPLAINTS_MAJOR: &[(&str, &str)] = &[
    (
        "service",
        "the promised factory tour was not delivered after repeated requests",
    ),
    (
        "third_party",
        "the hotel's double booking left the delegation without rooms",
    ),
    ("safety", "a visitor was injured on the test track"),
];

/// A person's name: Chinese characters or pinyin.
pub fn person(rng: &mut ChaCha8Rng, hanzi: bool) -> String {
    let (sc, sp) = *SURNAMES.choose(rng).expect("non-empty");
    let (gc, gp) = *GIVEN.choose(rng).expect("non-empty");
    if hanzi {
        format!("{sc}{gc}")
    } else {
        format!("{sp} {gp}")
    }
}

/// A visitor of a company.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub title: String,
    pub phone: String,
}

/// A customer company of the demo pool.
#[derive(Debug, Clone)]
pub struct Company {
    pub name: String,
    pub country: String,
    pub foreign: bool,
    pub department: &'static str,
    pub people: Vec<Person>,
    pub origin: &'static str,
}

const ORIGINS: &[&str] = &[
    "Shanghai",
    "Beijing",
    "Guangzhou",
    "Chengdu",
    "Zhengzhou",
    "Harbin",
    "Urumqi",
    "Wuhan",
];

/// Builds the customer pool: about a quarter foreign, the rest Chinese with names in
/// Chinese characters or pinyin.
pub fn companies(rng: &mut ChaCha8Rng, n: usize) -> Vec<Company> {
    let mut out: Vec<Company> = Vec::with_capacity(n);
    let mut seen = std::collections::BTreeSet::new();
    let mut tries = 0;
    while out.len() < n {
        tries += 1;
        let foreign = rng.random_bool(0.25);
        let c = if foreign {
            let (name, cc, people) = FOREIGN[rng.random_range(0..FOREIGN.len())];
            let people = people
                .iter()
                .map(|p| Person {
                    name: (*p).to_string(),
                    title: FOREIGN_TITLES.choose(rng).expect("non-empty").to_string(),
                    phone: format!(
                        "+{} {}",
                        rng.random_range(1..99),
                        rng.random_range(100_000_000u64..999_999_999)
                    ),
                })
                .collect();
            let name = if seen.contains(name) {
                format!("{name} ({cc} branch {tries})")
            } else {
                name.to_string()
            };
            Company {
                name,
                country: cc.into(),
                foreign: true,
                department: "export-sales",
                people,
                origin: "abroad",
            }
        } else {
            let hanzi = rng.random_bool(0.55);
            let (rc, rp) = *CN_REGIONS.choose(rng).expect("non-empty");
            let (bc, bp) = *CN_BRANDS.choose(rng).expect("non-empty");
            let (tc, tp) = *CN_TRADES.choose(rng).expect("non-empty");
            let name = if hanzi {
                format!("{rc}{bc}{tc}有限公司")
            } else {
                format!("{rp} {bp} {tp} Co., Ltd.")
            };
            if !seen.insert(name.clone()) {
                continue;
            }
            let people = (0..rng.random_range(2..6))
                .map(|_| {
                    let (tc, tp) = *CN_TITLES.choose(rng).expect("non-empty");
                    Person {
                        name: {
                            let script = hanzi && rng.random_bool(0.8);
                            person(rng, script)
                        },
                        title: if hanzi {
                            tc.to_string()
                        } else {
                            tp.to_string()
                        },
                        phone: format!(
                            "+86 1{}{:08}",
                            rng.random_range(30..90),
                            rng.random_range(0..100_000_000u32)
                        ),
                    }
                })
                .collect();
            let department = DEPARTMENTS
                [rng.random_range(0..DEPARTMENTS.len() - 2) + usize::from(rng.random_bool(0.2))];
            Company {
                name,
                country: "CN".into(),
                foreign: false,
                department,
                people,
                origin: ORIGINS.choose(rng).expect("non-empty"),
            }
        };
        seen.insert(c.name.clone());
        out.push(c);
    }
    out
}

/// A flight number (`MU5101`).
pub fn flight(rng: &mut ChaCha8Rng) -> String {
    let airline = ["MU", "CA", "CZ", "3U", "HU", "SC"]
        .choose(rng)
        .expect("non-empty");
    format!("{airline}{}", rng.random_range(1000..9999))
}

/// A high-speed train number (`G1234`).
pub fn train(rng: &mut ChaCha8Rng) -> String {
    format!("G{}", rng.random_range(1..2000))
}

/// A licence plate.
pub fn plate(rng: &mut ChaCha8Rng) -> String {
    const L: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    format!(
        "鲁A·{}{:04}",
        L[rng.random_range(0..L.len())] as char,
        rng.random_range(0..10_000)
    )
}

/// Drivers.
pub const DRIVERS: &[&str] = &["Driver Qian", "Driver Feng", "司机老孙", "Driver Tang"];
