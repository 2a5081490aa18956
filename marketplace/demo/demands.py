"""Technology needs posted by the invented buyers, in Korean and English, aimed at the real catalogue."""

from dataclasses import dataclass

from marketplace.models import Sector, TransactionType

S = Sector
T = TransactionType


@dataclass(frozen=True)
class DemandSpec:
    buyer: int  # index into cast.BUYERS
    title: str
    description: str
    keywords: tuple[str, ...]
    ipc_interests: tuple[str, ...]
    budget: int | None  # major units of the buyer's currency (won, dollars, yen, euros)
    transaction_type: str
    sector: str
    deadline_days: int
    closed: bool = False


DEMANDS: tuple[DemandSpec, ...] = (
    DemandSpec(
        0,
        "슈퍼커패시터용 고비표면적 그래핀 전극 제조기술",
        "당사 고출력 슈퍼커패시터 셀의 정전용량과 사이클 수명을 높일 수 있는 3차원 그래핀 또는 탄소 전극 "
        "제조기술을 찾습니다. 양산 라인(롤투롤)에 적용 가능한 공정이면 좋겠습니다.",
        ("슈퍼커패시터", "그래핀", "전극", "supercapacitor", "graphene"),
        ("H01G", "H01M 4"),
        150_000_000,
        T.EXCLUSIVE_LICENCE,
        S.SECONDARY_BATTERIES,
        60,
    ),
    DemandSpec(
        0,
        "리튬이차전지 양극재 코팅 및 전해질 첨가제",
        "고니켈 양극재의 표면 코팅 또는 전해질 첨가제로 고온 수명을 개선하는 기술. 통상실시권도 검토합니다.",
        ("리튬이차전지", "양극재", "전해질", "lithium secondary battery", "cathode"),
        ("H01M",),
        80_000_000,
        T.NON_EXCLUSIVE_LICENCE,
        S.SECONDARY_BATTERIES,
        45,
    ),
    DemandSpec(
        1,
        "산화물 박막 트랜지스터 공정 기술 (Oxide TFT process)",
        "디스플레이 백플레인용 산화물 반도체 박막 트랜지스터의 이동도·신뢰성 개선 기술을 찾습니다. "
        "We look for oxide TFT process patents that improve mobility and bias stability.",
        ("박막 트랜지스터", "산화물 반도체", "thin film transistor", "oxide semiconductor"),
        ("H01L",),
        300_000_000,
        T.ASSIGNMENT,
        S.SEMICONDUCTORS,
        90,
    ),
    DemandSpec(
        1,
        "5G/6G 기지국용 광대역 안테나",
        "광대역·빔 틸팅 보상 특성을 가진 패치 안테나 및 배열 안테나 설계 특허. 공동개발도 가능합니다.",
        ("안테나", "광대역", "5G", "patch antenna", "beam tilting"),
        ("H01Q", "H04W"),
        None,
        T.JOINT_DEVELOPMENT,
        S.NEXT_GEN_COMMUNICATIONS,
        75,
    ),
    DemandSpec(
        2,
        "표적 약물전달 나노입자 기술",
        "항암제 표적 전달용 나노입자 또는 하이드로젤 제형 기술을 찾습니다. "
        "전임상 데이터가 있으면 우대합니다.",
        ("약물전달", "나노입자", "하이드로젤", "drug delivery"),
        ("A61K", "A61P"),
        120_000_000,
        T.OPTION,
        S.ADVANCED_BIOTECH,
        60,
    ),
    DemandSpec(
        2,
        "웨어러블 생체신호 측정 센서",
        "심전도·혈중산소를 연속 측정하는 웨어러블 센서와 신호처리 알고리즘. 의료기기 인증을 준비 중입니다.",
        ("웨어러블", "생체신호", "센서", "wearable", "biosignal"),
        ("A61B", "G16H"),
        50_000_000,
        T.NON_EXCLUSIVE_LICENCE,
        S.ADVANCED_BIOTECH,
        30,
        closed=True,
    ),
    DemandSpec(
        3,
        "Lightweight composite structures for small aircraft",
        "We build avionics enclosures and secondary structures for light aircraft and UAVs, and need "
        "licensable composite layup, damage-tolerance or noise-reduction technology with test data.",
        ("composite", "aircraft structure", "noise reduction", "UAV"),
        ("B64C", "B32B", "C08J"),
        250_000,
        T.EXCLUSIVE_LICENCE,
        S.AEROSPACE_MARINE,
        90,
    ),
    DemandSpec(
        3,
        "Fault detection for flight-control actuators",
        "Sensor fusion or model-based diagnostics that detect actuator and sensor faults in flight-control "
        "systems in real time. Field-of-use licence for unmanned aircraft is enough.",
        ("fault detection", "flight control", "diagnostics", "sensor fusion"),
        ("G05B", "B64D", "G01M"),
        120_000,
        T.NON_EXCLUSIVE_LICENCE,
        S.AEROSPACE_MARINE,
        60,
    ),
    DemandSpec(
        4,
        "Hydrogen production catalysts and electrolysis",
        "Catalysts or processes that lower the cost of hydrogen production (water electrolysis, reforming), "
        "ready for pilot scale within two years.",
        ("hydrogen", "electrolysis", "catalyst", "수소", "촉매"),
        ("C01B 3", "C25B", "B01J"),
        500_000,
        T.EXCLUSIVE_LICENCE,
        S.HYDROGEN,
        120,
    ),
    DemandSpec(
        4,
        "Battery management and energy storage safety",
        "Technologies that detect thermal runaway early or balance cells in large stationary storage "
        "systems.",
        ("battery management", "energy storage", "thermal runaway"),
        ("H02J", "H01M 10"),
        200_000,
        T.OPTION,
        S.SECONDARY_BATTERIES,
        45,
    ),
    DemandSpec(
        5,
        "Precision robot arm control / 精密ロボットアーム制御",
        "We seek control and calibration methods for precision robot arms used in semiconductor handling. "
        "半導体搬送用ロボットの高精度制御技術を探しています。",
        ("robot arm", "calibration", "motion control", "ロボット"),
        ("B25J", "G05B"),
        30_000_000,
        T.EXCLUSIVE_LICENCE,
        S.ADVANCED_ROBOTICS,
        90,
    ),
    DemandSpec(
        5,
        "Gas and chemical sensors for fab monitoring",
        "Compact gas sensors (hydrogen, VOC, toxic gases) for in-line monitoring of semiconductor fabs.",
        ("gas sensor", "VOC", "hydrogen sensor", "가스센서"),
        ("G01N",),
        15_000_000,
        T.NON_EXCLUSIVE_LICENCE,
        S.SEMICONDUCTORS,
        60,
    ),
    DemandSpec(
        6,
        "Image-based inspection with machine learning",
        "Computer-vision and machine-learning methods for surface-defect inspection, usable on embedded "
        "hardware. Joint development with the inventors' lab is welcome.",
        ("computer vision", "machine learning", "defect inspection", "영상처리"),
        ("G06T", "G06N", "G06V"),
        180_000,
        T.JOINT_DEVELOPMENT,
        S.AI,
        75,
    ),
    DemandSpec(
        6,
        "Wireless sensor networks for industrial monitoring",
        "Low-power wireless sensor network protocols and antennas for condition monitoring in factories.",
        ("wireless sensor network", "low power", "IoT", "무선 센서 네트워크"),
        ("H04W", "H04L", "H01Q"),
        None,
        T.NON_EXCLUSIVE_LICENCE,
        S.NEXT_GEN_COMMUNICATIONS,
        60,
    ),
    DemandSpec(
        7,
        "3D cell culture and tumour models",
        "In-vitro three-dimensional tissue or tumour models for drug screening, including bioreactor "
        "methods.",
        ("3D cell culture", "tumour model", "bioreactor", "drug screening"),
        ("C12N", "C12M", "G01N 33"),
        300_000,
        T.EXCLUSIVE_LICENCE,
        S.ADVANCED_BIOTECH,
        90,
    ),
)
