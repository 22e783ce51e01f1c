// End-to-end test of the chat example in Debian's headless Chromium.
//
//   CHAT_URL=http://127.0.0.1:3000/ node --test chat.e2e.js
//
// Starts nothing itself: the chat example must already serve CHAT_URL
// (tests/browser.rs does all of it). Two isolated browser contexts (two
// users) set nicknames, join a room, see each other in the member list,
// see each other's typing notice and messages, and both end up on the
// WebSocket transport (the page uses the default client options: polling
// first, then the upgrade).
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { chromium } = require("playwright-core");

const CHAT_URL = process.env.CHAT_URL;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const TIMEOUT = 15000;

let browser;

before(async () => {
  assert.ok(CHAT_URL, "set CHAT_URL to the chat example's address");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Playwright gives every launch a fresh temporary profile directory
    // (it refuses --user-data-dir in `args`).
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    timeout: 60000,
  });
});

after(async () => {
  if (browser) await browser.close();
});

/** Waits until the element `selector` has exactly `text` (trimmed). */
async function waitText(page, selector, text) {
  try {
    await page.waitForFunction(
      ([sel, want]) => {
        const el = document.querySelector(sel);
        return el !== null && el.textContent.trim() === want;
      },
      [selector, text],
      { timeout: TIMEOUT }
    );
  } catch (e) {
    const got = await page.locator(selector).textContent().catch(() => null);
    throw new Error(`${selector}: wanted ${JSON.stringify(text)}, got ${JSON.stringify(got)}`, {
      cause: e,
    });
  }
}

/** Waits until some `selector` element contains `text` (visible or not:
 * `<option>`s count as hidden). */
async function waitContains(page, selector, text) {
  await page
    .locator(selector, { hasText: text })
    .first()
    .waitFor({ state: "attached", timeout: TIMEOUT });
}

async function openUser(nick) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
  await page.goto(CHAT_URL);
  await waitText(page, "#status", "connected");
  await page.fill("#nick", nick);
  await page.click("#nick-button");
  await waitText(page, "#me", nick);
  await waitText(page, "#room-name", "lobby");
  return { context, page, problems };
}

test("two users chat in a room through the browser page", { timeout: 120000 }, async () => {
  const alice = await openUser("alice");
  const bob = await openUser("bob");
  try {
    // A taken nickname is refused with the server's message.
    const carol = await openUser("carol");
    await carol.page.fill("#nick", "Alice");
    await carol.page.click("#nick-button");
    await waitContains(carol.page, "#nick-error", "taken");
    await carol.context.close();

    for (const user of [alice, bob]) {
      await user.page.fill("#new-room", "e2e");
      await user.page.click("#join-button");
      await waitText(user.page, "#room-name", "e2e");
    }
    for (const user of [alice, bob]) {
      await waitText(user.page, "#members", "alicebob");
      await waitContains(user.page, "#rooms option", "e2e (2)");
    }
    await waitContains(alice.page, "#messages li.notice", "bob joined e2e");

    // Typing shows on the other page only, and goes away on send.
    await alice.page.locator("#message").pressSequentially("hello from alice");
    await waitText(bob.page, "#typing", "alice is typing…");
    assert.equal((await alice.page.textContent("#typing")).trim(), "");
    await alice.page.click("#send-button");
    await waitText(bob.page, "#typing", "");

    await bob.page.fill("#message", "hi alice, bob here");
    await bob.page.press("#message", "Enter");

    for (const user of [alice, bob]) {
      await waitContains(user.page, "#messages li.message", "hello from alice");
      await waitContains(user.page, "#messages li.message", "hi alice, bob here");
    }
    const line = alice.page.locator("#messages li.message", { hasText: "hi alice" }).first();
    assert.equal((await line.locator(".nick").textContent()).trim(), "bob");
    assert.match((await line.locator(".time").textContent()).trim(), /\d/);

    // Default options: polling first, then the upgrade to WebSocket.
    for (const user of [alice, bob]) {
      await waitText(user.page, "#transport", "websocket");
      await waitText(user.page, "#status", "connected");
    }

    // Leaving the room puts bob back in the lobby; alice sees him go.
    await bob.page.click("#leave-button");
    await waitText(bob.page, "#room-name", "lobby");
    await waitText(alice.page, "#members", "alice");
    await waitContains(alice.page, "#messages li.notice", "bob left e2e");

    for (const user of [alice, bob]) {
      assert.deepEqual(user.problems, []);
    }
  } finally {
    await alice.context.close();
    await bob.context.close();
  }
});
