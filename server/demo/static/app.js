// The smscode demo page: get a slider puzzle, solve it, send a code, verify
// it, calling the API as a OneAccess browser client does. For an
// application whose captcha kind is altcha, the ALTCHA widget (vendored in
// /demo/altcha/) solves a proof-of-work challenge instead of the slider.
'use strict';
(() => {
  // ---- Paths and JSON field names: adjust here if the spec changes. ----
  const API = {
    config: '/demo/config.json',
    outbox: '/demo/outbox', // dev mode only, ?mobile=...
    captcha: '/api/v2/sdk/captcha', // GET: a puzzle
    captchaVerify: '/api/v2/sdk/captcha/verify', // POST: answer it
    altcha: '/api/v2/sdk/captcha/altcha', // GET: a proof-of-work challenge
    altchaWidget: '/demo/altcha/altcha.js', // the widget, an ES module
    send: '/api/v2/sdk/sms/send',
    verify: '/api/v2/sdk/sms/verify',
  };
  const FIELDS = {
    // GET captcha answer
    token: 'token',
    background: 'original_image_base64',
    piece: 'jigsaw_image_base64',
    y: 'y',
    width: 'width',
    height: 'height',
    // POST captcha/verify body and answer
    pointJSON: 'point_json',
    sender: 'sender',
    captchaToken: 'captcha_token',
    // error body
    errorCode: 'error_code',
    errorMsg: 'error_msg',
  };
  // AJ-Captcha fixes the point's y at 5.0; the server ignores it.
  const POINT_Y = 5.0;

  const STRINGS = {
    en: {
      title: 'SMS verification demo', language: 'Language', step1: '1. Your number',
      mobile: 'Mobile number', mobileHelp: '11 digits (mainland China) or + and the international number.',
      scenario: 'Scenario', step2: '2. Slide the piece into the hole', getPuzzle: 'Get puzzle',
      newPuzzle: 'New puzzle', hint: 'Drag the handle to fit the piece', handleLabel: 'Piece position',
      puzzleAlt: 'A picture with a hole the shape of the piece', step3: '3. Send the code', send: 'Send code',
      outbox: 'Dev outbox', step4: '4. Enter the code', code: 'Code from the SMS', verify: 'Verify',
      result: 'Result', settings: 'Application', tenant: 'X-tenant-id (optional)',
      puzzleReady: 'Puzzle ready: slide the piece into the hole.', captchaOK: 'Puzzle solved.',
      sent: 'Code sent.', verified: 'Code verified: you are in.', needMobile: 'Enter your mobile number first.',
      needClient: 'Set X-client-id under "Application".', network: 'Network error',
      outboxEmpty: '(no message yet)', resend: 'resend after', expires: 'valid for',
      step2Altcha: '2. Show you are not a robot', altchaOK: 'Check passed.',
    },
    zh: {
      title: '短信验证码演示', language: '语言', step1: '1. 手机号',
      mobile: '手机号', mobileHelp: '11 位中国大陆手机号，或 + 加国际号码。',
      scenario: '发送场景', step2: '2. 拖动拼图到缺口处', getPuzzle: '获取拼图',
      newPuzzle: '换一张', hint: '拖动滑块完成拼图', handleLabel: '拼图位置',
      puzzleAlt: '带有拼图形状缺口的图片', step3: '3. 发送验证码', send: '发送验证码',
      outbox: '开发模式发件箱', step4: '4. 输入验证码', code: '短信验证码', verify: '验证',
      result: '结果', settings: '应用', tenant: 'X-tenant-id（可选）',
      puzzleReady: '拼图已就绪：请拖动拼图到缺口处。', captchaOK: '拼图验证通过。',
      sent: '验证码已发送。', verified: '验证码正确，验证成功。', needMobile: '请先输入手机号。',
      needClient: '请在“应用”中设置 X-client-id。', network: '网络错误',
      outboxEmpty: '（暂无短信）', resend: '重发间隔', expires: '有效期',
      step2Altcha: '2. 人机验证', altchaOK: '验证通过。',
    },
  };

  const $ = (id) => document.getElementById(id);
  const el = {
    lang: $('lang'), mobile: $('mobile'), scenario: $('scenario'), getPuzzle: $('get-puzzle'),
    puzzle: $('puzzle'), frame: $('puzzle-frame'), bg: $('puzzle-bg'), piece: $('puzzle-piece'),
    track: $('slider-track'), fill: $('slider-fill'), handle: $('slider-handle'),
    send: $('send'), outboxBox: $('outbox-box'), outbox: $('outbox'), code: $('code'),
    verify: $('verify'), status: $('status'), log: $('log'), clientID: $('client-id'),
    tenantID: $('tenant-id'), altchaBox: $('altcha-box'),
  };

  const state = {
    devMode: false,
    puzzle: null, // {token, y, width, height}
    x: 0, // the piece's left edge, in picture pixels
    answering: false,
    captchaToken: '',
    captcha: 'slider', // the application's captcha kind, from config.json
    widget: null, // the ALTCHA widget, when captcha is altcha
  };

  // ---- Headers ----

  // printable keeps printable ASCII only (the API refuses anything else)
  // and at most max characters.
  const printable = (s, max) => String(s || '').replace(/[^\x20-\x7e]/g, '').trim().slice(0, max);

  const store = {
    get(k) { try { return localStorage.getItem(k); } catch { return null; } },
    set(k, v) { try { localStorage.setItem(k, v); } catch { /* private mode: keep it in memory */ } },
  };

  let fingerprintMemo = '';
  function fingerprint() {
    if (fingerprintMemo) return fingerprintMemo;
    let fp = store.get('smscode-demo-fingerprint');
    if (!fp || !/^[!-~]{1,128}$/.test(fp)) {
      const b = new Uint8Array(16);
      crypto.getRandomValues(b);
      fp = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
      store.set('smscode-demo-fingerprint', fp);
    }
    fingerprintMemo = fp;
    return fp;
  }

  function headers() {
    const h = {
      'Content-Type': 'application/json;charset=utf8',
      'X-operating-sys-version': printable(navigator.platform, 64) || 'web',
      'X-device-fingerprint': fingerprint(),
      'X-agent': printable(navigator.userAgent, 512) || 'web',
      'X-L': el.lang.value,
      'X-client-id': el.clientID.value.trim(),
    };
    const tenant = el.tenantID.value.trim();
    if (tenant) h['X-tenant-id'] = tenant; // an empty one is an error (APP.0005)
    return h;
  }

  // call sends one request and returns {ok, status, data, res}; data is the
  // parsed JSON, or the text when the answer is not JSON.
  async function call(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: headers(),
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'same-origin',
    });
    const text = await res.text();
    let data = text;
    if ((res.headers.get('Content-Type') || '').includes('json')) {
      try { data = JSON.parse(text); } catch { /* keep the text */ }
    }
    return { ok: res.ok, status: res.status, data, res };
  }

  // ---- Results ----

  const t = (key) => (STRINGS[el.lang.value] || STRINGS.en)[key] || STRINGS.en[key] || key;

  // show puts a result in #status and adds it to the log. code is the API's
  // error_code for an error, '' for a success.
  function show(step, ok, message, code) {
    const line = code ? `${code}: ${message}` : message;
    el.status.textContent = `${step}: ${line}`;
    el.status.className = ok ? 'ok' : 'err';
    el.status.dataset.step = step;
    el.status.dataset.code = code || '';
    const li = document.createElement('li');
    li.className = ok ? 'ok' : 'err';
    li.textContent = `${step} \u2192 ${line}`;
    el.log.prepend(li);
  }

  // showError reports a failed call: the API's error body, or the status.
  function showError(step, r) {
    const d = r && typeof r.data === 'object' && r.data ? r.data : {};
    const code = d[FIELDS.errorCode] || (r ? `HTTP ${r.status}` : t('network'));
    const msg = d[FIELDS.errorMsg] || (r && typeof r.data === 'string' ? r.data.slice(0, 200) : '');
    show(step, false, msg, code);
  }

  // guarded runs fn, reporting network failures against step.
  async function guarded(step, button, fn) {
    if (button) button.disabled = true;
    try {
      await fn();
    } catch (e) {
      show(step, false, String(e && e.message ? e.message : e), t('network'));
    } finally {
      // Send stays disabled once its captcha_token is spent.
      if (button) button.disabled = button === el.send ? !state.captchaToken : false;
    }
  }

  function mobile() {
    return el.mobile.value.replace(/[\s-]/g, '');
  }

  function needInputs(step) {
    if (!el.clientID.value.trim()) {
      show(step, false, t('needClient'), '');
      $('settings').open = true;
      el.clientID.focus();
      return false;
    }
    if (!mobile()) {
      show(step, false, t('needMobile'), '');
      el.mobile.focus();
      return false;
    }
    return true;
  }

  // ---- Puzzle ----

  async function getPuzzle() {
    if (!needInputs('captcha')) return;
    const r = await call('GET', API.captcha);
    if (!r.ok || typeof r.data !== 'object') {
      showError('captcha', r);
      return;
    }
    const d = r.data;
    state.puzzle = {
      token: d[FIELDS.token],
      y: Number(d[FIELDS.y]) || 0,
      width: Number(d[FIELDS.width]) || 310,
      height: Number(d[FIELDS.height]) || 155,
    };
    state.captchaToken = '';
    el.send.disabled = true;
    // The token is no secret (it travels with the answer); exposing it lets
    // a browser test look the hole up on the server, as a person looks at
    // the picture.
    el.bg.dataset.token = state.puzzle.token;
    el.bg.src = 'data:image/png;base64,' + d[FIELDS.background];
    el.piece.src = 'data:image/png;base64,' + d[FIELDS.piece];
    el.puzzle.hidden = false;
    await Promise.all([el.bg.decode(), el.piece.decode()]);
    el.track.classList.remove('ok', 'err', 'done');
    el.getPuzzle.textContent = t('newPuzzle');
    el.getPuzzle.dataset.i18n = 'newPuzzle';
    setX(0);
    show('captcha', true, t('puzzleReady'), '');
    el.handle.focus();
  }

  // geometry gives the picture's scale on screen and the slider's ranges.
  function geometry() {
    const p = state.puzzle;
    const scale = el.frame.clientWidth / p.width;
    const maxX = Math.max(0, p.width - el.piece.naturalWidth);
    const travel = Math.max(1, el.track.clientWidth - el.handle.offsetWidth);
    return { scale, maxX, travel };
  }

  // setX moves the piece to x (picture pixels) and the handle with it.
  function setX(x) {
    if (!state.puzzle) return;
    const g = geometry();
    state.x = Math.min(Math.max(x, 0), g.maxX);
    el.piece.style.width = el.piece.naturalWidth * g.scale + 'px';
    el.piece.style.top = state.puzzle.y * g.scale + 'px';
    el.piece.style.left = state.x * g.scale + 'px';
    const pos = g.maxX ? (state.x / g.maxX) * g.travel : 0;
    el.handle.style.left = pos + 'px';
    el.fill.style.width = pos + el.handle.offsetWidth / 2 + 'px';
    el.handle.setAttribute('aria-valuemax', String(g.maxX));
    el.handle.setAttribute('aria-valuenow', String(Math.round(state.x)));
  }

  const canSlide = () => state.puzzle && !state.answering && !el.track.classList.contains('done');

  // drag makes target draggable: perPixel converts a pointer move in CSS
  // pixels into picture pixels. Releasing answers the puzzle.
  function drag(target, perPixel) {
    let start = null;
    target.addEventListener('pointerdown', (e) => {
      if (!canSlide() || e.button > 0) return;
      e.preventDefault();
      target.setPointerCapture(e.pointerId);
      start = { clientX: e.clientX, x: state.x };
      el.track.classList.add('dragging');
      target.classList.add('dragging');
    });
    target.addEventListener('pointermove', (e) => {
      if (!start) return;
      setX(start.x + (e.clientX - start.clientX) * perPixel());
    });
    const end = (e) => {
      if (!start) return;
      const moved = e.type === 'pointerup' && state.x !== start.x;
      start = null;
      el.track.classList.remove('dragging');
      target.classList.remove('dragging');
      if (moved) answer();
    };
    target.addEventListener('pointerup', end);
    target.addEventListener('pointercancel', end);
  }

  drag(el.handle, () => { const g = geometry(); return g.maxX / g.travel; });
  drag(el.piece, () => 1 / geometry().scale);

  el.handle.addEventListener('keydown', (e) => {
    if (!canSlide()) return;
    const step = e.shiftKey ? 10 : 1;
    const moves = { ArrowRight: step, ArrowUp: step, ArrowLeft: -step, ArrowDown: -step };
    if (e.key in moves) setX(state.x + moves[e.key]);
    else if (e.key === 'Home') setX(0);
    else if (e.key === 'End') setX(Infinity);
    else if (e.key === 'Enter' || e.key === ' ') answer();
    else return;
    e.preventDefault();
  });

  window.addEventListener('resize', () => setX(state.x));

  // answer posts the piece's position; a puzzle takes one answer.
  async function answer() {
    if (!canSlide()) return;
    state.answering = true;
    const x = Math.round(state.x * 10) / 10;
    const body = {
      [FIELDS.pointJSON]: JSON.stringify({ x, y: POINT_Y }),
      [FIELDS.token]: state.puzzle.token,
      [FIELDS.sender]: mobile(),
    };
    try {
      const r = await call('POST', API.captchaVerify, body);
      el.track.classList.add('done');
      const token = r.ok && typeof r.data === 'object' ? r.data[FIELDS.captchaToken] : '';
      if (token) {
        state.captchaToken = token;
        el.track.classList.add('ok');
        el.send.disabled = false;
        show('captcha/verify', true, t('captchaOK'), '');
        el.send.focus();
      } else {
        el.track.classList.add('err');
        showError('captcha/verify', r);
        el.getPuzzle.focus();
      }
    } catch (e) {
      show('captcha/verify', false, String(e.message || e), t('network'));
    } finally {
      state.answering = false;
    }
  }

  // ---- ALTCHA ----

  // setupAltcha puts the real ALTCHA widget in place of the slider. The
  // widget fetches its challenge from the API with the page's headers (its
  // customfetch), solves it in a worker and reports the payload, which is
  // the captcha_token of the send.
  async function setupAltcha() {
    $('get-puzzle').hidden = true;
    el.puzzle.hidden = true;
    const h2 = $('h-captcha');
    h2.dataset.i18n = 'step2Altcha';
    h2.textContent = t('step2Altcha');
    await import(API.altchaWidget);
    await customElements.whenDefined('altcha-widget');
    const w = document.createElement('altcha-widget');
    // Set before the widget mounts: it reads challengeurl when it starts.
    w.setAttribute('challengeurl', API.altcha);
    w.customfetch = (url, init) => fetch(url, {
      ...init, headers: headers(), cache: 'no-store', credentials: 'same-origin',
    });
    el.altchaBox.append(w);
    el.altchaBox.hidden = false;
    w.addEventListener('statechange', (ev) => {
      const d = ev.detail || {};
      w.dataset.state = d.state || '';
      if (d.state === 'verified' && d.payload) {
        state.captchaToken = d.payload;
        el.send.disabled = false;
        show('captcha/altcha', true, t('altchaOK'), '');
      } else if (d.state === 'error' || d.state === 'expired') {
        state.captchaToken = '';
        el.send.disabled = true;
        show('captcha/altcha', false, d.state, '');
      }
    });
    state.widget = w;
  }

  // ---- Send and verify ----

  async function send() {
    if (!needInputs('sms/send') || !state.captchaToken) return;
    const body = { mobile: mobile(), type: el.scenario.value, captcha_token: state.captchaToken };
    state.captchaToken = ''; // spent by this call, whatever its answer
    // A solved widget's payload is spent too: set it back to unsolved so
    // that the next send solves a new challenge.
    if (state.widget) state.widget.reset();
    const r = await call('POST', API.send, body);
    if (!r.ok) {
      showError('sms/send', r);
      return;
    }
    const extra = [];
    const resend = r.res.headers.get('X-Resend-After');
    const expires = r.res.headers.get('X-Code-Expires-In');
    if (resend) extra.push(`${t('resend')} ${resend}s`);
    if (expires) extra.push(`${t('expires')} ${expires}s`);
    show('sms/send', true, t('sent') + (extra.length ? ` (${extra.join(', ')})` : ''), '');
    el.code.focus();
    if (state.devMode) await readOutbox();
  }

  // readOutbox shows the text the dev sender "sent" to the number and, as
  // a convenience, puts the code it holds in the code field.
  async function readOutbox() {
    const r = await call('GET', `${API.outbox}?mobile=${encodeURIComponent(mobile())}`);
    el.outboxBox.hidden = false;
    if (!r.ok) {
      el.outbox.textContent = `HTTP ${r.status}`;
      return;
    }
    const text = typeof r.data === 'string' ? r.data : JSON.stringify(r.data, null, 2);
    el.outbox.textContent = text || t('outboxEmpty');
    // Look for the code in the message's text only: the masked number
    // beside it ("+86 138****5678") ends in four digits too.
    const sms = r.data && typeof r.data === 'object' ? String(r.data.text || '') : '';
    const m = /\b(\d{4,10})\b/.exec(sms);
    if (m && !el.code.value) el.code.value = m[1];
  }

  async function verify() {
    if (!needInputs('sms/verify')) return;
    const body = { mobile: mobile(), type: el.scenario.value, verify_code: el.code.value.trim() };
    const r = await call('POST', API.verify, body);
    if (r.ok) show('sms/verify', true, t('verified'), '');
    else showError('sms/verify', r);
  }

  // ---- Language and start-up ----

  function applyLanguage() {
    const lang = el.lang.value;
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.querySelectorAll('[data-i18n]').forEach((n) => { n.textContent = t(n.dataset.i18n); });
    document.querySelectorAll('[data-i18n-alt]').forEach((n) => { n.alt = t(n.dataset.i18nAlt); });
    document.querySelectorAll('[data-i18n-aria]').forEach((n) => n.setAttribute('aria-label', t(n.dataset.i18nAria)));
    store.set('smscode-demo-lang', lang);
  }

  el.lang.addEventListener('change', applyLanguage);
  el.getPuzzle.addEventListener('click', () => guarded('captcha', el.getPuzzle, getPuzzle));
  el.send.addEventListener('click', () => guarded('sms/send', el.send, send));
  el.verify.addEventListener('click', () => guarded('sms/verify', el.verify, verify));
  el.code.addEventListener('keydown', (e) => { if (e.key === 'Enter') el.verify.click(); });

  async function start() {
    const saved = store.get('smscode-demo-lang');
    el.lang.value = saved === 'zh' || saved === 'en' ? saved : (navigator.language || '').startsWith('zh') ? 'zh' : 'en';
    applyLanguage();
    try {
      const res = await fetch(API.config, { cache: 'no-store' });
      const c = await res.json();
      el.clientID.value = c.client_id || '';
      el.tenantID.value = c.tenant_id || '';
      state.devMode = Boolean(c.dev_mode);
      state.captcha = c.captcha === 'altcha' ? 'altcha' : 'slider';
      if (state.captcha === 'altcha') await setupAltcha();
    } catch (e) {
      show('config', false, String(e.message || e), t('network'));
    }
    document.body.dataset.ready = 'true'; // for browser tests: wired and configured
  }

  start();
})();
