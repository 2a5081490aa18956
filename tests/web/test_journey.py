"""The whole journey in real Chromium, with the seller, the buyer and the broker in browser contexts of
their own against one server: list a package, search in Korean and in English and narrow by a facet,
inquire, the broker joins, the NDA is signed, a message reaches the others within a second, offer /
counter / accept, a milestone is funded (Stripe.js cannot load here: the page says so, and the test
confirms the payment the way Stripe would, with a signed webhook to the server), materials are deposited
and released, and the deal is settled. Then every page in both languages: no missing translation, no
console error; axe-core on the search, listing and deal-room pages; screenshots for docs/screenshots/."""

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.test import override_settings
from graphql_relay import to_global_id

from escrow.models import EscrowMilestone
from escrow.payments.simulated import SimulatedGateway
from marketplace.models import Deal, Listing
from matching import indexing
from matching.es import client as es_client
from matching.indices import ALL
from tests.escrow.stripe_events import WEBHOOK_PATH, sign
from tests.web.browser import (
    VIEWPORT,
    Watched,
    open_page,
    screenshot,
    serious_axe_violations,
    untranslated,
)
from tests.web.scene import PASSWORD, Scene, build_scene

pytestmark = pytest.mark.django_db(transaction=True)

SECOND = 1_000  # Playwright's timeouts are in milliseconds
STEP = 15 * SECOND  # a generous bound for server round trips on a loaded CI machine


@pytest.fixture
def gateway(simulator_namespace: str) -> Iterator[SimulatedGateway]:
    """The simulator the server uses (same Redis namespace), for onboarding payees and paying."""
    sim = SimulatedGateway(redis_url=settings.CELERY_BROKER_URL, namespace=simulator_namespace)
    with override_settings(
        ESCROW_GATEWAY="escrow.payments.simulated.simulated_gateway",
        ESCROW_SIMULATOR_NAMESPACE=simulator_namespace,
        ESCROW_SIMULATOR_REDIS_URL=settings.CELERY_BROKER_URL,
    ):
        yield sim
    sim.reset()


def index_now() -> None:
    """Apply the search outbox here rather than through a Celery worker, and make it searchable."""
    while indexing.drain().written:
        pass
    for ref in ALL:
        es_client().indices.refresh(index=ref.alias)


def sign_in(browser: Any, base: str, email: str, locale: str) -> Watched:
    context = browser.new_context(base_url=base, locale=locale, viewport=VIEWPORT)
    context.set_default_timeout(STEP)
    watched = open_page(context)
    page = watched.page
    page.goto("/signin")
    page.locator("#signin-email").fill(email)
    page.locator("#signin-password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))
    return watched


def confirm_payment_as_stripe(base: str, gateway: SimulatedGateway, deal: Deal) -> None:
    """What Stripe does after the Payment Element confirms: the intent succeeds and the gateway POSTs a
    signed payment_intent.succeeded to our webhook."""
    escrow = EscrowMilestone.objects.get(milestone__deal=deal, milestone__sequence=1)
    assert escrow.payment_intent_id, "the page did not create the PaymentIntent"
    event = gateway.succeed_payment(escrow.payment_intent_id)
    payload = json.dumps(event).encode()
    response = httpx.post(
        base + WEBHOOK_PATH,
        content=payload,
        headers={"Stripe-Signature": sign(payload), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


def when_ready(page: Any, role: str, name: str, *, exact: bool = False) -> Any:
    """A button once it is there and enabled (pages poll the server for the other side's changes)."""
    button = page.get_by_role(role, name=name, exact=exact).first
    button.wait_for(state="visible")
    return button


def wait_deal_state(page: Any, state: str) -> None:
    page.locator(f'[data-testid="deal-state"][data-state="{state}"]').wait_for()


def test_seller_buyer_and_broker_close_a_deal_in_the_browser(
    web_server: str, browser: Any, gateway: SimulatedGateway
) -> None:
    scene: Scene = build_scene(gateway)
    index_now()
    seller = sign_in(browser, web_server, scene.seller.email, "ko-KR")
    buyer = sign_in(browser, web_server, scene.buyer.email, "en-US")
    broker = sign_in(browser, web_server, scene.broker.email, "ko-KR")
    s, b, k = seller.page, buyer.page, broker.page

    # 1. The seller packages two of the university's imported patents (the wizard runs in Korean)
    first, second = scene.free_patents[:2]
    s.goto("/sell/new")
    for patent in (first, second):
        s.get_by_label("보유 특허 찾기").fill(patent.application_number)
        s.get_by_role("button", name="찾기", exact=True).click()
        s.get_by_role("checkbox", name=re.compile(patent.application_number)).check()
    screenshot(s, "seller-wizard-patents")
    s.get_by_role("button", name="다음", exact=True).click()
    title = f"이차전지 소재 기술 패키지 ({first.application_number})"
    s.get_by_label("제목", exact=True).fill(title)
    s.get_by_label("요약", exact=True).fill(
        "고용량 이차전지 전극 소재와 제조 공정 특허 2건. "
        "Battery electrode materials with 20% higher capacity."
    )
    s.get_by_label("노하우", exact=True).fill("공정 조건표와 시제품 시험 데이터 일체를 함께 이전합니다.")
    s.get_by_label("분야", exact=True).select_option("SECONDARY_BATTERIES")
    s.get_by_role("button", name="다음", exact=True).click()
    s.get_by_role("checkbox", name="전용실시권", exact=True).check()
    s.get_by_role("checkbox", name="통상실시권", exact=True).check()
    s.get_by_label("가격", exact=True).fill("150,000,000")
    s.get_by_label("통화", exact=True).select_option("KRW")
    s.get_by_role("button", name="다음", exact=True).click()
    s.get_by_test_id("quality-coach").wait_for()
    screenshot(s, "seller-wizard-coach")
    s.get_by_role("button", name="게시하기", exact=True).click()
    s.wait_for_url(re.compile(r"/listings/"))
    listing = Listing.objects.get(title=title)
    assert listing.status == "published" and listing.patents.count() == 2
    index_now()

    # 2. The buyer searches in Korean, then in English, narrows by a facet and opens the package
    b.goto("/")
    b.get_by_role("button", name="한국어").click()
    b.goto("/search")
    search_box = b.get_by_role("combobox", name="검색")
    search_box.fill("이차전지")
    search_box.press("Enter")
    results = b.get_by_test_id("search-result")
    results.first.wait_for()
    assert b.get_by_test_id("search-results").get_by_role("link", name=title).count() == 1
    b.get_by_role("button", name="English").click()
    search_box = b.get_by_role("combobox", name="Search")
    search_box.fill("battery electrode")
    search_box.press("Enter")
    b.wait_for_url(re.compile(r"q=battery"))
    results.first.wait_for()
    before = b.get_by_role("status").filter(has_text=re.compile(r"results? for")).first.inner_text()
    b.get_by_role("group", name="Sector").get_by_role("checkbox", name="Secondary batteries").check()
    b.wait_for_url(re.compile(r"sector="))
    b.get_by_test_id("search-results").get_by_role("link", name=title).wait_for()
    after = b.get_by_role("status").filter(has_text=re.compile(r"results? for")).first.inner_text()
    assert after != before  # the facet narrowed the results
    screenshot(b, "search")
    for hit in results.all():
        assert "Secondary batteries" in hit.inner_text()
    b.get_by_test_id("search-results").get_by_role("link", name=title).click()
    b.get_by_role("heading", level=1, name=title).wait_for()
    screenshot(b, "listing")

    # 3. ... and inquires (with an e-mail address the relay must mask for the seller)
    b.get_by_role("button", name="Inquire").click()
    b.get_by_label("Message to the seller").fill(
        "We make pouch cells and would like to evaluate this. Reach me at cto@hcteck.example.kr."
    )
    b.get_by_role("button", name="Send inquiry").click()
    b.wait_for_url(re.compile(r"/deals/"))
    deal_path = b.url[len(web_server) :]
    deal = Deal.objects.get(listing=listing)
    wait_deal_state(b, "INQUIRY")

    # 4. The seller opens it from the inquiries, and assigns the broker, who sees it on the desk
    s.goto("/sell/inquiries")
    s.locator(f'a[href="{deal_path}"]').first.click()
    s.wait_for_url(re.compile(re.escape(deal_path)))
    wait_deal_state(s, "INQUIRY")
    assert "cto@hcteck.example.kr" not in s.get_by_role("region", name="거래방").inner_text()
    choose = s.locator("#dp-broker-select")
    choose.select_option(choose.locator("option", has_text="이몽룡").first.get_attribute("value"))
    s.get_by_label("배분율(%)", exact=True).fill("100")
    s.get_by_label("주 중개인", exact=True).check()
    s.get_by_role("button", name="중개인 배정").click()
    s.get_by_test_id("deal-brokers").get_by_text("이몽룡").wait_for()
    k.goto("/broker")
    k.get_by_role("link", name=re.compile(re.escape(title))).first.wait_for()
    k.goto(deal_path)
    wait_deal_state(k, "INQUIRY")

    # 5. NDA: requested and signed by both sides
    b.get_by_role("button", name="Request NDA").click()
    wait_deal_state(b, "NDA_PENDING")
    b.get_by_role("button", name="Sign NDA").click()
    when_ready(s, "button", "NDA 서명").click()
    wait_deal_state(s, "NDA_SIGNED")
    wait_deal_state(b, "NDA_SIGNED")

    # 6. A message typed by one party appears for the other two within one second
    words = f"Can you share the cycle-life test data? ({time.time_ns()})"
    b.get_by_label("Message", exact=True).fill(words)
    b.get_by_role("button", name="Send", exact=True).click()
    started = time.monotonic()
    for page in (s, k):
        page.get_by_test_id("room-message").filter(has_text=words).wait_for(timeout=SECOND)
    assert time.monotonic() - started < 1.0  # both have it within one second of the click
    screenshot(k, "deal-room-broker")

    # 7. Offer, counter, accept
    b.get_by_label("Upfront amount").fill("120,000,000")
    b.get_by_label("Currency").select_option("KRW")
    b.get_by_label("Transaction type").select_option("EXCLUSIVE_LICENCE")
    b.get_by_label("Royalty (%)").fill("3")
    b.get_by_label("Term (months)").fill("60")
    b.get_by_label("Territory").fill("KR")
    b.get_by_role("button", name="Make an offer").click()
    wait_deal_state(b, "NEGOTIATING")
    when_ready(s, "button", "수정 제안").click()
    s.get_by_label("선급금 금액").fill("140,000,000")
    s.get_by_role("button", name="조건 제안").click()
    # both sides accept version 2, the proposer's too (the buyer's page shows it by its polling)
    for page, accept in ((s, "제안 수락"), (b, "Accept offer")):
        version_2 = page.locator('[data-testid="offer"][data-version="2"]')
        when_ready(version_2, "button", accept).click()
    wait_deal_state(s, "AGREED")
    wait_deal_state(b, "AGREED")

    # 8. One milestone for the whole price, funded: Stripe.js cannot load here, the page says so, and the
    #    test confirms the payment as Stripe would, with a signed webhook to the server
    s.get_by_label("마일스톤 제목").fill("기술자료 및 노하우 이전")
    s.get_by_label("금액", exact=True).fill("140,000,000")
    s.get_by_label("산출물").fill("공정 조건표, 시험 데이터")
    s.get_by_label("검수 기간(일)").fill("14")
    s.get_by_role("button", name="마일스톤 설정").click()
    milestone_b = b.get_by_test_id("milestone").first
    when_ready(milestone_b, "button", "Pay into escrow").click()
    b.get_by_test_id("payment-unavailable").wait_for()
    confirm_payment_as_stripe(web_server, gateway, deal)
    b.locator('[data-testid="milestone"][data-state="FUNDED"]').wait_for()
    wait_deal_state(b, "IN_ESCROW")

    # 9. The seller deposits the materials (sealed, with a certificate) and confirms delivery
    milestone_s = s.get_by_test_id("milestone").first
    milestone_s.get_by_label("제목", exact=True).fill("공정 조건표")
    milestone_s.get_by_label("설명", exact=True).fill("전극 슬러리 조성과 건조 조건")
    milestone_s.get_by_label("파일").set_input_files(
        files=[{"name": "process.txt", "mimeType": "text/plain", "buffer": b"slurry: 42% solids, 120 C"}]
    )
    milestone_s.get_by_role("button", name="자료 예치").click()
    milestone_s.locator('[data-testid="deposit"][data-state="SEALED"]').wait_for()
    assert milestone_s.get_by_role("link", name="예치 증명서 내려받기").count() == 1
    when_ready(milestone_s, "button", "인도 확인").click()
    s.locator('[data-testid="milestone"][data-state="DELIVERED"]').wait_for()

    # 10. The buyer accepts: money and materials are released together, and the deal is settled
    when_ready(b.get_by_test_id("milestone").first, "button", "Accept and release").click()
    b.locator('[data-testid="milestone"][data-state="RELEASED"]').wait_for()
    b.locator('[data-testid="deposit"][data-state="RELEASED"]').wait_for()
    wait_deal_state(b, "SETTLED")
    wait_deal_state(s, "SETTLED")
    screenshot(b, "deal-settled")
    deal.refresh_from_db()
    assert deal.state == "settled"

    # The one console error allowed: the buyer's browser failing to reach js.stripe.com.
    assert seller.clean() == [] and broker.clean() == []
    assert set(buyer.clean()) <= {"Failed to load resource: net::ERR_NAME_NOT_RESOLVED"}

    # 11. Every page, for each role, in both languages: translated, quiet; axe on the key pages
    listing_path = f"/listings/{to_global_id('Listing', listing.pk)}"
    buyer_paths = ["/", "/search?q=battery", listing_path, "/buy/demands", "/buy/feed", "/buy/bookmarks"]
    buyer_paths += ["/saved-searches", "/deals", deal_path, "/no/such/page"]
    seller_listing = listing_path.replace("/listings/", "/sell/listings/")
    seller_paths = ["/sell/new", "/sell/listings", "/sell/inquiries", f"{seller_listing}/buyers"]
    seller_paths += [f"{seller_listing}/edit", deal_path]
    pages = [(buyer, buyer_paths), (seller, seller_paths), (broker, ["/broker", "/deals", deal_path])]
    axe_pages = {"/search?q=battery", listing_path, deal_path}
    for who, paths in pages:
        for language, switch in (("ko", "한국어"), ("en", "English")):
            who.page.goto("/")
            who.page.get_by_role("button", name=switch).click()
            for path in paths:
                page = who.page
                page.goto(path)
                page.get_by_role("heading", level=1).first.wait_for()
                page.get_by_role("status").filter(has_text=re.compile("Loading|불러오는 중")).first.wait_for(
                    state="detached"
                )
                # settled: nothing loading (results are dimmed while a search runs)
                page.locator('[aria-busy="true"]').first.wait_for(state="detached")
                assert untranslated(page) == [], (language, path)
                assert who.clean() == [], (language, path)
                if who is buyer and path in axe_pages:
                    assert serious_axe_violations(page) == [], (language, path)
    buyer.page.goto("/")
    buyer.page.locator("canvas").first.wait_for()  # the charts' chunk is loaded after the page
    screenshot(buyer.page, "landing")
