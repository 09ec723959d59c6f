/*
 * Chat widget of the Kreispolizeibehörde Düren's digital assistant.
 *
 * Embedded by one script tag (see docs/widget.md); configuration comes from its
 * data-* attributes. It talks to Rasa's socket.io channel with the vendored
 * socket.io client, which it loads from its own server only when the citizen
 * opens the chat. No cookies: the session id, the consent and the transcript
 * live in sessionStorage (cleared when the tab is closed).
 *
 * Sessions are issued by the server: the widget asks for one with
 * `session_request`; the server answers `session_token` (the session id and its
 * signature) and `session_confirm`. After a reload the widget shows both to
 * resume the conversation; a session id alone opens nothing.
 *
 * Security: every text from the bot or the user is inserted as a text node;
 * links are built as DOM nodes after checking their scheme. No innerHTML.
 *
 * Issue 12: a „Leichte Sprache“ switch (remembered for the session), the
 * answer's language on its bubble (lang/dir), its sources as links, and
 * „Hat das geholfen?“ with thumbs up/down and an optional comment under each
 * answer. Feedback goes back through the chat as `/feedback{...}` naming the
 * answer's id (bot/web/answer_output.py, actions/feedback.py).
 */
(function () {
  "use strict";

  const script = document.currentScript;
  if (!script || window.__kpbChatLoaded) {
    return;
  }
  window.__kpbChatLoaded = true;

  // --- configuration ---------------------------------------------------------
  const data = script.dataset;
  const widgetBase = new URL(".", script.src);
  const retention = parseInt(data.retentionDays || "", 10);
  const config = {
    socketUrl: data.socketUrl || location.protocol + "//" + location.hostname + ":5005",
    socketPath: data.socketPath || "/socket.io",
    privacyUrl: data.privacyUrl || "",
    accessibilityUrl: data.accessibilityUrl || "",
    feedbackUrl: data.feedbackUrl || "",
    retentionDays: retention > 0 ? retention : null,
    ioSrc: data.ioSrc || new URL("../vendor/socket.io.min.js", widgetBase).href,
    cssHref: new URL("kpb-chat.css", widgetBase).href,
  };
  const MAX_ENTRIES = 200;
  const MAX_LENGTH = 500;
  const STORE_KEY = "kpbChat.v1";

  // --- state (kept in sessionStorage across page reloads) --------------------
  function freshState(consent, leicht) {
    // sessionId and sessionToken come from the server (session_token event).
    return {
      sessionId: null,
      sessionToken: null,
      consent: consent,
      greeted: false,
      open: false,
      leicht: !!leicht,
      log: [],
    };
  }

  function loadState() {
    try {
      const raw = sessionStorage.getItem(STORE_KEY);
      if (raw) {
        const s = JSON.parse(raw);
        if (s && Array.isArray(s.log)) {
          return s;
        }
      }
    } catch (e) {
      /* storage disabled or corrupt: start fresh */
    }
    return freshState(false);
  }

  let state = loadState();

  function saveState() {
    state.log = state.log.slice(-MAX_ENTRIES);
    try {
      sessionStorage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (e) {
      /* the conversation then lasts only until the next reload */
    }
  }

  // --- DOM helpers (text only, never HTML) -----------------------------------
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([name, value]) => {
      if (value === true) {
        node.setAttribute(name, "");
      } else if (value !== false && value !== null && value !== undefined) {
        node.setAttribute(name, String(value));
      }
    });
    (children || []).forEach((child) => {
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function srOnly(text) {
    return el("span", { class: "kc-sr" }, [text]);
  }

  function externalLink(href, text, extraClass) {
    const attrs = { href: href, class: extraClass || null };
    const isHttp = /^https?:/i.test(href);
    const sameSite = isHttp && new URL(href, location.href).origin === location.origin;
    if (isHttp && !sameSite) {
      attrs.target = "_blank";
      attrs.rel = "noopener noreferrer";
    }
    const children = [text];
    if (attrs.target) {
      children.push(srOnly(" (öffnet in neuem Fenster)"));
    }
    return el("a", attrs, children);
  }

  // E-mail addresses, URLs with scheme, and bare domain names such as
  // internetwache.polizei.nrw (only a few top-level domains, to avoid "z.B.").
  const LINK_RE = new RegExp(
    [
      "([A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\\.)+[A-Za-z]{2,})",
      "(https?:\\/\\/[^\\s<>\"']+)",
      "((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\\.)+(?:nrw|de|eu|com|org|net|info)(?![A-Za-z0-9-])(?:\\/[^\\s<>\"']*)?)",
    ].join("|"),
    "g"
  );
  const TRAILING = /[.,;:!?)\]}"'»“]+$/;

  function safeHref(candidate) {
    try {
      const url = new URL(candidate);
      return url.protocol === "https:" || url.protocol === "http:" || url.protocol === "mailto:"
        ? url.href
        : null;
    } catch (e) {
      return null;
    }
  }

  /** Text with links as an array of DOM nodes. */
  function linkify(text) {
    const nodes = [];
    let last = 0;
    LINK_RE.lastIndex = 0;
    let match;
    while ((match = LINK_RE.exec(text)) !== null) {
      let found = match[0];
      const trailing = (found.match(TRAILING) || [""])[0];
      found = found.slice(0, found.length - trailing.length);
      const preceding = match.index > 0 ? text[match.index - 1] : "";
      let href = null;
      if (found && preceding !== "@" && preceding !== "/") {
        if (match[1]) {
          href = safeHref("mailto:" + found);
        } else if (match[2]) {
          href = safeHref(found);
        } else {
          href = safeHref("https://" + found);
        }
      }
      if (!href) {
        continue;
      }
      if (match.index > last) {
        nodes.push(document.createTextNode(text.slice(last, match.index)));
      }
      nodes.push(externalLink(href, found));
      last = match.index + found.length;
      LINK_RE.lastIndex = last;
    }
    if (last < text.length) {
      nodes.push(document.createTextNode(text.slice(last)));
    }
    return nodes;
  }

  // Texts of the controls under an answer, in the answer's language.
  const UI = {
    de: {
      urgent: "Notfall: ",
      call: "Jetzt 110 anrufen",
      source: "Quelle: ",
      sources: "Quellen: ",
      question: "Hat das geholfen?",
      yes: "Ja",
      yesName: "Ja, das hat geholfen",
      no: "Nein",
      noName: "Nein, das hat nicht geholfen",
      thanks: "Danke für Ihre Rückmeldung.",
      commentLabel: "Was hat gefehlt? (freiwillig, bitte ohne Namen und Telefonnummern)",
      commentSend: "Kommentar abschicken",
      human: "Mit einem Menschen sprechen",
      humanText: "Ich möchte mit einem Menschen sprechen",
    },
    en: {
      urgent: "Emergency: ",
      call: "Call 110 now",
      source: "Source: ",
      sources: "Sources: ",
      question: "Did this help?",
      yes: "Yes",
      yesName: "Yes, this helped",
      no: "No",
      noName: "No, this did not help",
      thanks: "Thank you for your feedback.",
      commentLabel: "What was missing? (optional, please no names or phone numbers)",
      commentSend: "Submit comment",
      human: "Talk to a person",
      humanText: "I would like to talk to a person",
    },
  };
  function ui(lang) {
    return lang === "en" ? UI.en : UI.de;
  }
  const COMMENT_MAX = 300;

  /** The emergency answer names 110 in its first sentence. */
  function isUrgent(text) {
    const first = text.split(/(?<=[.!?])\s/)[0] || "";
    return /(^|\D)110(\D|$)/.test(first);
  }

  // --- the widget's DOM -------------------------------------------------------
  // A landmark of its own, so that the launcher is found like the page's regions.
  const host = el("div", { id: "kpb-chat-widget", role: "complementary", "aria-label": "Chat-Assistent", hidden: true });
  const root = host.attachShadow({ mode: "open" });
  const stylesheet = el("link", { rel: "stylesheet", href: config.cssHref });
  stylesheet.addEventListener("load", () => host.removeAttribute("hidden"));
  stylesheet.addEventListener("error", () => host.removeAttribute("hidden"));

  const launcher = el(
    "button",
    {
      type: "button",
      class: "kc-launcher",
      "aria-label": "Chat: Fragen an den Assistenten",
      "aria-expanded": "false",
      "aria-controls": "kc-panel",
    },
    [
      el("span", { class: "kc-launcher-icon", "aria-hidden": "true" }, ["?"]),
      "Chat",
      el("span", { class: "kc-launcher-more", "aria-hidden": "true" }, [": Fragen an den Assistenten"]),
    ]
  );

  const closeButton = el("button", { type: "button", class: "kc-text-button kc-close" }, [
    el("span", { class: "kc-close-icon", "aria-hidden": "true" }, ["×"]),
    "Schließen",
  ]);
  const restartButton = el("button", { type: "button", class: "kc-text-button" }, ["Neues Gespräch"]);
  // A toggle button: its state is aria-pressed, so screen readers say „gedrückt“.
  const leichtButton = el(
    "button",
    { type: "button", class: "kc-text-button kc-leicht", "aria-pressed": "false" },
    ["Leichte Sprache"]
  );
  // Announces what happened to a feedback control (the log only announces new messages).
  const announcer = el("p", { class: "kc-sr", role: "status", "aria-live": "polite" }, [""]);
  const status = el("p", { class: "kc-status", role: "status", "data-state": "idle" }, [""]);

  const header = el("div", { class: "kc-header" }, [
    el("div", { class: "kc-header-top" }, [
      el("div", { class: "kc-titles" }, [
        el("h2", { id: "kc-title", class: "kc-title" }, ["Chat der Polizei Düren"]),
        el("p", { class: "kc-subtitle" }, ["Automatisierter Assistent – kein Mensch"]),
      ]),
      closeButton,
    ]),
    el("div", { class: "kc-header-actions" }, [
      el("a", { class: "kc-emergency", href: "tel:110" }, [
        "Notruf 110",
        srOnly(" – im Notfall immer anrufen, dieser Chat ist kein Notruf"),
      ]),
      el("div", { class: "kc-header-buttons" }, [leichtButton, restartButton]),
    ]),
  ]);

  const privacyText = [
    "Ihre Nachrichten und die Antworten des Assistenten werden ",
    config.retentionDays ? "bis zu " + config.retentionDays + " Tage " : "",
    "gespeichert, damit Ihr Anliegen bearbeitet und der Assistent verbessert werden kann. ",
    "Bitte geben Sie nur an, was für Ihre Frage nötig ist. ",
    "Der Chat setzt keine Cookies; eine zufällige Gesprächskennung bleibt in diesem Browser-Tab gespeichert, bis Sie ihn schließen.",
  ].join("");
  const consentButton = el("button", { type: "button", class: "kc-primary", "aria-describedby": "kc-privacy-text" }, [
    "Verstanden – Chat starten",
  ]);
  const consentChildren = [
    el("h3", { class: "kc-consent-title" }, ["Hinweis zum Datenschutz"]),
    el("p", { id: "kc-privacy-text" }, [privacyText]),
  ];
  if (config.privacyUrl) {
    consentChildren.push(el("p", {}, [externalLink(config.privacyUrl, "Vollständige Datenschutzhinweise")]));
  }
  consentChildren.push(consentButton);
  const consent = el("div", { class: "kc-consent" }, consentChildren);

  const log = el("div", {
    class: "kc-log",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": "Gesprächsverlauf",
    tabindex: "0",
  });
  const typing = el("div", { class: "kc-typing", hidden: true, "aria-hidden": "true" }, [
    el("span", { class: "kc-dot" }),
    el("span", { class: "kc-dot" }),
    el("span", { class: "kc-dot" }),
    el("span", { class: "kc-typing-text" }, ["Der Assistent schreibt …"]),
  ]);

  const input = el("input", {
    id: "kc-input",
    type: "text",
    class: "kc-input",
    autocomplete: "off",
    maxlength: String(MAX_LENGTH),
    enterkeyhint: "send",
    placeholder: "Ihre Frage …",
  });
  const sendButton = el("button", { type: "submit", class: "kc-primary" }, ["Senden"]);
  const form = el("form", { class: "kc-form", hidden: true }, [
    el("label", { for: "kc-input", class: "kc-sr" }, ["Ihre Nachricht an den Assistenten"]),
    input,
    sendButton,
  ]);

  const footerLinks = [];
  if (config.accessibilityUrl) {
    footerLinks.push(el("li", {}, [externalLink(config.accessibilityUrl, "Barrierefreiheit")]));
  }
  if (config.feedbackUrl) {
    footerLinks.push(el("li", {}, [externalLink(config.feedbackUrl, "Feedback geben")]));
  }
  if (config.privacyUrl) {
    footerLinks.push(el("li", {}, [externalLink(config.privacyUrl, "Datenschutz")]));
  }
  const footer = el("div", { class: "kc-footer" }, [
    form,
    el("ul", { class: "kc-links", "aria-label": "Informationen zum Chat" }, footerLinks),
  ]);

  const panel = el(
    "section",
    { id: "kc-panel", class: "kc-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "kc-title", hidden: true },
    [header, status, consent, log, typing, footer, announcer]
  );
  root.append(stylesheet, el("div", { class: "kc-root" }, [launcher, panel]));

  // --- rendering -------------------------------------------------------------
  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function renderEntry(entry, withButtons) {
    const urgent = entry.from === "bot" && isUrgent(entry.text);
    const texts = ui(entry.lang);
    const classes = ["kc-msg", entry.from === "bot" ? "kc-msg--bot" : "kc-msg--user"];
    if (urgent) {
      classes.push("kc-msg--urgent");
    }
    const body = [srOnly(entry.from === "bot" ? "Assistent: " : "Sie: ")];
    if (urgent) {
      body.push(el("strong", { class: "kc-urgent-label" }, [texts.urgent]));
    }
    body.push(...linkify(entry.text));
    const bubbleAttrs = { class: "kc-bubble" };
    if (entry.lang) {
      bubbleAttrs.lang = entry.lang;
      bubbleAttrs.dir = entry.lang === "ar" ? "rtl" : null;
    }
    const item = el("div", { class: classes.join(" ") }, [el("p", bubbleAttrs, body)]);
    if (urgent) {
      item.append(el("a", { class: "kc-call", href: "tel:110" }, [texts.call]));
    }
    if (entry.sources && entry.sources.length) {
      item.append(renderSources(entry));
    }
    if (entry.feedback && entry.answer) {
      item.append(renderFeedback(entry));
    }
    log.append(item);
    if (withButtons && entry.buttons && entry.buttons.length) {
      log.append(renderButtons(entry.buttons));
    }
  }

  /** „Quelle: <a>Titel</a>“ under an answer; a source without address as text. */
  function renderSources(entry) {
    const texts = ui(entry.lang);
    const line = el("p", { class: "kc-sources" }, [
      entry.sources.length > 1 ? texts.sources : texts.source,
    ]);
    entry.sources.forEach((source, i) => {
      if (i > 0) {
        line.append("; ");
      }
      const href = source.url ? safeHref(source.url) : null;
      line.append(href ? externalLink(href, source.title) : source.title);
    });
    return line;
  }

  /** „Hat das geholfen?“ – Ja / Nein, after „Nein“ an optional comment. */
  function renderFeedback(entry) {
    const texts = ui(entry.lang);
    const box = el("div", { class: "kc-feedback", lang: entry.lang === "en" ? "en" : "de" });
    if (entry.feedbackGiven) {
      box.append(el("p", { class: "kc-feedback-done" }, [texts.thanks]));
      return box;
    }
    const yes = el("button", { type: "button", class: "kc-thumb", "aria-label": texts.yesName }, [
      texts.yes,
    ]);
    const no = el("button", { type: "button", class: "kc-thumb", "aria-label": texts.noName }, [
      texts.no,
    ]);
    const group = el("div", { class: "kc-feedback-row", role: "group", "aria-label": texts.question }, [
      el("span", { class: "kc-feedback-question", "aria-hidden": "true" }, [texts.question]),
      yes,
      no,
    ]);
    box.append(group);
    yes.addEventListener("click", () => {
      sendFeedback(entry, "yes");
      finishFeedback(entry, box, texts.thanks, true);
    });
    no.addEventListener("click", () => {
      sendFeedback(entry, "no");
      box.replaceChildren(commentForm(entry, box));
      announce(texts.thanks);
    });
    return box;
  }

  function commentForm(entry, box) {
    const texts = ui(entry.lang);
    const id = "kc-comment-" + String(entry.answer).replace(/\W/g, "");
    const field = el("input", { id: id, type: "text", class: "kc-input kc-comment", maxlength: String(COMMENT_MAX), autocomplete: "off" });
    const send = el("button", { type: "submit", class: "kc-secondary" }, [texts.commentSend]);
    const human = el("button", { type: "button", class: "kc-reply" }, [texts.human]);
    const form = el("form", { class: "kc-comment-form" }, [
      el("p", { class: "kc-feedback-done" }, [texts.thanks]),
      el("label", { for: id }, [texts.commentLabel]),
      el("div", { class: "kc-comment-row" }, [field, send]),
      human,
    ]);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const comment = field.value.trim().slice(0, COMMENT_MAX);
      if (comment) {
        sendFeedback(entry, "no", comment);
      }
      finishFeedback(entry, box, texts.thanks, false);
    });
    human.addEventListener("click", () => {
      finishFeedback(entry, box, texts.thanks, false);
      sendUserMessage(texts.humanText, "/request_human");
    });
    setTimeout(() => field.focus(), 0);
    return form;
  }

  function finishFeedback(entry, box, thanks, speak) {
    const hadFocus = box.contains(root.activeElement);
    entry.feedbackGiven = true;
    saveState();
    box.replaceChildren(el("p", { class: "kc-feedback-done" }, [thanks]));
    if (speak) {
      announce(thanks);
    }
    if (hadFocus) {
      input.focus();
    }
  }

  function announce(text) {
    announcer.textContent = "";
    setTimeout(() => {
      announcer.textContent = text;
    }, 50);
  }

  function sendFeedback(entry, helpful, comment) {
    const payload = { answer: String(entry.answer), helpful: helpful };
    if (comment) {
      payload.comment = comment;
    }
    emitMessage("/feedback" + JSON.stringify(payload));
  }

  function renderButtons(buttons) {
    const group = el("div", { class: "kc-replies", role: "group", "aria-label": "Antwortvorschläge" });
    buttons.forEach((button) => {
      const b = el("button", { type: "button", class: "kc-reply" }, [button.title]);
      b.addEventListener("click", () => sendUserMessage(button.title, button.payload));
      group.append(b);
    });
    return group;
  }

  function renderAll() {
    log.replaceChildren();
    state.log.forEach((entry, i) => renderEntry(entry, i === state.log.length - 1));
    scrollToEnd();
  }

  function dropButtons() {
    const hadFocus = log.contains(root.activeElement);
    log.querySelectorAll(".kc-replies").forEach((group) => group.remove());
    state.log.forEach((entry) => delete entry.buttons);
    if (hadFocus) {
      input.focus();
    }
  }

  function addEntry(entry) {
    state.log.push(entry);
    saveState();
    renderEntry(entry, true);
    scrollToEnd();
  }

  let typingTimer = null;
  function setTyping(on) {
    typing.hidden = !on;
    clearTimeout(typingTimer);
    if (on) {
      typingTimer = setTimeout(() => setTyping(false), 30000);
      scrollToEnd();
    }
  }

  const STATUS_TEXT = {
    idle: "",
    connecting: "Verbindung wird hergestellt …",
    connected: "Verbunden",
    reconnecting: "Verbindung unterbrochen – neuer Versuch läuft …",
    offline: "Keine Internetverbindung – der Chat verbindet sich automatisch neu.",
    error: "Der Chat ist gerade nicht erreichbar. Im Notfall: 110.",
  };
  function setStatus(name) {
    if (status.dataset.state === name) {
      return;
    }
    status.dataset.state = name;
    status.textContent = STATUS_TEXT[name];
  }

  function showConsentOrChat() {
    consent.hidden = state.consent;
    restartButton.hidden = !state.consent;
    form.hidden = !state.consent;
    log.hidden = !state.consent;
  }

  // --- connection ------------------------------------------------------------
  let socket = null;
  let confirmed = false;
  let pending = [];
  let ioPromise = null;

  function loadIo() {
    if (typeof window.io === "function") {
      return Promise.resolve(window.io);
    }
    if (!ioPromise) {
      ioPromise = new Promise((resolve, reject) => {
        // The UMD bundle registers with an AMD loader if the page has one.
        const amd = window.define;
        window.define = undefined;
        const tag = el("script", { src: config.ioSrc });
        tag.addEventListener("load", () => {
          window.define = amd;
          resolve(window.io);
        });
        tag.addEventListener("error", () => {
          window.define = amd;
          ioPromise = null;
          reject(new Error("socket.io client could not be loaded"));
        });
        document.head.append(tag);
      });
    }
    return ioPromise;
  }

  function emitMessage(text) {
    if (socket && confirmed) {
      socket.emit("user_uttered", { message: text, session_id: state.sessionId });
    } else {
      pending.push(text);
    }
  }

  function onSessionToken(data) {
    if (!data || typeof data.session_id !== "string" || typeof data.session_token !== "string") {
      return;
    }
    if (data.session_id !== state.sessionId) {
      // A new session (first contact, or the old one could not be resumed).
      state.greeted = false;
    }
    state.sessionId = data.session_id;
    state.sessionToken = data.session_token;
    saveState();
  }

  function onSessionConfirm(sessionId) {
    if (typeof sessionId !== "string" || sessionId !== state.sessionId) {
      return;
    }
    confirmed = true;
    setStatus("connected");
    const queued = pending;
    pending = [];
    queued.forEach((text) => socket.emit("user_uttered", { message: text, session_id: state.sessionId }));
    if (!state.greeted) {
      state.greeted = true;
      saveState();
      setTyping(true);
      emitMessage(state.leicht ? '/greet{"leichte_sprache": "on", "language": "de"}' : "/greet");
    }
  }

  function onBotMessage(message) {
    if (!message || typeof message !== "object") {
      return;
    }
    const text = typeof message.text === "string" ? message.text : "";
    const raw = Array.isArray(message.quick_replies)
      ? message.quick_replies
      : Array.isArray(message.buttons)
        ? message.buttons
        : [];
    const buttons = raw
      .filter((b) => b && typeof b.title === "string" && typeof b.payload === "string")
      .map((b) => ({ title: b.title, payload: b.payload }));
    if (!text && !buttons.length) {
      return;
    }
    setTyping(false);
    if (buttons.length) {
      dropButtons();
    }
    const entry = { from: "bot", text: text, buttons: buttons };
    if (typeof message.lang === "string" && /^[a-z]{2}$/.test(message.lang)) {
      entry.lang = message.lang;
    }
    if (typeof message.answer === "string" && /^[0-9.e+-]{1,40}$/.test(message.answer)) {
      entry.answer = message.answer;
      entry.feedback = message.feedback === true;
    }
    if (Array.isArray(message.sources)) {
      entry.sources = message.sources
        .filter((s) => s && typeof s.title === "string")
        .slice(0, 5)
        .map((s) => ({ title: s.title, url: typeof s.url === "string" ? s.url : "" }));
    }
    if (message.mode === "leicht" || message.mode === "de") {
      setLeicht(message.mode === "leicht", false);
    }
    addEntry(entry);
  }

  function connect() {
    if (socket) {
      return;
    }
    setStatus("connecting");
    loadIo()
      .then((io) => {
        if (socket) {
          return;
        }
        socket = io(config.socketUrl, {
          path: config.socketPath,
          reconnectionDelay: 1000,
          reconnectionDelayMax: 5000,
          withCredentials: false,
        });
        socket.on("connect", () => {
          confirmed = false;
          socket.emit("session_request", {
            session_id: state.sessionId,
            session_token: state.sessionToken,
          });
        });
        socket.on("session_token", onSessionToken);
        socket.on("session_confirm", onSessionConfirm);
        socket.on("bot_uttered", onBotMessage);
        socket.on("disconnect", (reason) => {
          confirmed = false;
          setStatus(reason === "io client disconnect" ? "idle" : navigator.onLine ? "reconnecting" : "offline");
          if (reason === "io server disconnect") {
            socket.connect();
          }
        });
        socket.on("connect_error", () => {
          confirmed = false;
          setStatus(navigator.onLine ? "reconnecting" : "offline");
        });
      })
      .catch(() => setStatus("error"));
  }

  window.addEventListener("offline", () => {
    if (socket) {
      setStatus("offline");
    }
  });
  window.addEventListener("online", () => {
    if (socket && !socket.connected) {
      setStatus("reconnecting");
      socket.connect();
    }
  });

  // --- user actions ----------------------------------------------------------
  function sendUserMessage(shown, payload) {
    const text = shown.trim().slice(0, MAX_LENGTH);
    if (!text) {
      return;
    }
    dropButtons();
    addEntry({ from: "user", text: text });
    setTyping(true);
    emitMessage(payload === undefined ? text : payload);
  }

  function open(options) {
    const moveFocus = !options || options.focus !== false;
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    saveState();
    showConsentOrChat();
    if (state.consent) {
      renderAll();
      connect();
    }
    if (moveFocus) {
      (state.consent ? input : consentButton).focus();
    }
  }

  function close() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    saveState();
    launcher.focus();
  }

  function restart() {
    state = freshState(state.consent, state.leicht);
    state.open = true;
    saveState();
    pending = [];
    setTyping(false);
    renderAll();
    if (socket) {
      // A new socket id, so that nothing of the old session reaches this tab.
      confirmed = false;
      socket.disconnect();
      setStatus("connecting");
      socket.connect();
    } else if (state.consent) {
      connect();
    }
    input.focus();
  }

  /** Reflect the mode on the switch; `tell` also tells the assistant. */
  function setLeicht(on, tell) {
    const changed = state.leicht !== on;
    state.leicht = on;
    leichtButton.setAttribute("aria-pressed", on ? "true" : "false");
    saveState();
    if (tell && changed && state.consent && state.greeted) {
      setTyping(true);
      emitMessage(
        on
          ? '/switch_language{"leichte_sprache": "on", "language": "de"}'
          : '/switch_language{"leichte_sprache": "off", "language": "de"}'
      );
    }
  }

  leichtButton.addEventListener("click", () => setLeicht(!state.leicht, true));
  setLeicht(!!state.leicht, false);

  launcher.addEventListener("click", () => open());
  closeButton.addEventListener("click", close);
  restartButton.addEventListener("click", restart);
  consentButton.addEventListener("click", () => {
    state.consent = true;
    saveState();
    showConsentOrChat();
    renderAll();
    connect();
    input.focus();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) {
      input.focus();
      return;
    }
    input.value = "";
    sendUserMessage(text);
  });
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });

  function mount() {
    document.body.append(host);
    if (state.open) {
      open({ focus: false });
    }
  }
  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount);
  }
})();
