// Progressive enhancement only: every page works without this file.

// While a topic is drafted, show which prerequisites it will need. The server decides (the
// rules live in one place); this only asks it and lists the answer.
document.addEventListener('DOMContentLoaded', () => {
  const form = document.querySelector('form[data-preview]');
  const out = document.getElementById('prerequisite-preview');
  if (!form || !out) return;
  const item = (text) => {
    const li = document.createElement('li');
    li.textContent = text;
    return li;
  };
  const update = async () => {
    const data = new FormData(form);
    const query = new URLSearchParams();
    for (const name of ['party_group_id', 'category', 'amount_yuan']) {
      query.set(name, data.get(name) || '');
    }
    for (const name of ['is_major_policy', 'is_technical', 'is_public_interest', 'is_procurement']) {
      query.set(name, data.get(name) ? 'true' : 'false');
    }
    try {
      const res = await fetch('/api/v1/topics/prerequisites?' + query, { credentials: 'same-origin' });
      if (!res.ok) {
        const problem = await res.json();
        out.replaceChildren(item(problem.detail || '无法判断所需前置程序'));
        return;
      }
      const list = await res.json();
      out.replaceChildren(...(list.length
        ? list.map((p) => item(`${p.label_zh}(${p.rules.join('、')})`))
        : [item('本议题无须前置审查')]));
    } catch {
      out.replaceChildren(item('暂时无法连接服务器'));
    }
  };
  form.addEventListener('change', update);
  update();
});

// Irreversible actions ask first (ui.md "No surprises"). The form carries its question; with
// the answer given here the server acts at once, without it the server asks on a page.
document.addEventListener('submit', (e) => {
  const form = e.target;
  const question = form.querySelector && form.querySelector('input[name=confirm]');
  if (!question || form.querySelector('input[name=confirmed]')) return;
  if (!window.confirm(question.value)) {
    e.preventDefault();
    return;
  }
  const answer = document.createElement('input');
  answer.type = 'hidden';
  answer.name = 'confirmed';
  answer.value = 'yes';
  form.append(answer);
});

// Live meeting screens: each change announced over Server-Sent Events swaps in the meeting
// part of the page (fetched alone), unless the person is typing — then a notice asks them to
// refresh.
(() => {
  const live = document.querySelector('[data-live]');
  if (!live || !window.EventSource) return;
  const source = new EventSource('/api/v1/meetings/' + live.dataset.live + '/events');
  let first = true;
  // One fetch at a time: changes that arrive meanwhile are shown by one more fetch after it.
  let busy = false;
  let again = false;
  source.addEventListener('meeting', () => {
    if (first) { first = false; return; } // the page was rendered from this state
    if (busy) { again = true; return; }
    refresh();
  });
  function typing(root) {
    return [...root.querySelectorAll('textarea, input[type=text], input:not([type])')]
      .some((el) => el.value.trim() !== '' || el === document.activeElement);
  }
  async function refresh() {
    busy = true;
    try {
      await swap();
    } finally {
      busy = false;
    }
    if (again) { again = false; refresh(); }
  }
  async function swap() {
    const current = document.querySelector('[data-live]');
    if (typing(current)) {
      if (!document.getElementById('stale')) {
        const note = document.createElement('p');
        note.id = 'stale';
        note.className = 'notice';
        note.setAttribute('role', 'status');
        note.textContent = '会议状态已更新,提交或刷新页面后可见。';
        current.prepend(note);
      }
      return;
    }
    // Only the live part of the page, rendered from the server's read model of the meeting.
    const res = await fetch(current.dataset.fragment || location.href, { credentials: 'same-origin' });
    if (!res.ok) return;
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    const fresh = doc.querySelector('[data-live]');
    if (fresh) current.replaceWith(fresh);
  }
})();

// An error page's way back: the browser's own history keeps what was typed into the form;
// without script the link opens the page the person came from. A refused form goes back at
// once, and the form shows each error next to its field.
(() => {
  const KEY = 'yishi.field-errors';
  const goBack = (back) => {
    const errors = [...document.querySelectorAll('ul.errors li[data-field]')]
      .map((li) => ({ field: li.dataset.field, text: li.textContent }));
    if (errors.length) {
      sessionStorage.setItem(KEY, JSON.stringify({ path: back.getAttribute('href'), errors }));
    }
    window.history.back();
  };
  document.addEventListener('click', (event) => {
    const back = event.target.closest('a[data-back]');
    if (back && window.history.length > 1) {
      event.preventDefault();
      goBack(back);
    }
  });
  document.addEventListener('DOMContentLoaded', () => {
    const back = document.querySelector('a[data-back]');
    const from = document.referrer && new URL(document.referrer);
    if (back && from && from.origin === location.origin
        && from.pathname + from.search === back.getAttribute('href')
        && document.querySelector('ul.errors li[data-field]') && window.history.length > 1) {
      goBack(back);
    }
  });
  window.addEventListener('pageshow', () => {
    // The error page itself (at the form's address after a post) only hands the errors on.
    if (document.querySelector('a[data-back]')) return;
    const saved = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    if (!saved || saved.path !== location.pathname + location.search) return;
    sessionStorage.removeItem(KEY);
    document.querySelectorAll('.field-error').forEach((el) => el.remove());
    let first = null;
    const elsewhere = [];
    for (const e of saved.errors) {
      const control = document.querySelector(`form [name="${CSS.escape(e.field)}"]`);
      if (!control) {
        elsewhere.push(e.text);
        continue;
      }
      const note = document.createElement('p');
      note.className = 'error field-error';
      note.id = 'error-' + e.field;
      note.textContent = e.text;
      control.insertAdjacentElement('afterend', note);
      control.setAttribute('aria-invalid', 'true');
      control.setAttribute('aria-describedby', note.id);
      first = first || control;
    }
    // Errors of no field on this page are said at its top.
    if (elsewhere.length) {
      const note = document.createElement('div');
      note.className = 'notice rule field-error';
      note.setAttribute('role', 'alert');
      note.textContent = '输入有误:' + elsewhere.join(';');
      document.querySelector('main').prepend(note);
    }
    if (first) first.focus();
  });
})();

// Print buttons on the minutes and the summary (the print stylesheet lays them out on A4).
document.addEventListener('click', (event) => {
  if (event.target.closest('[data-print]')) window.print();
});

// Large files: the roster upload shows how much of the file has gone up, then that the server
// is checking its rows; a long import says it is under way. Without script the forms post as
// usual.
document.addEventListener('submit', (e) => {
  const form = e.target;
  const bar = !e.defaultPrevented && form.querySelector && form.querySelector('.upload-progress');
  if (!bar) return;
  const status = bar.querySelector('[role=status]');
  const progress = bar.querySelector('progress');
  const button = form.querySelector('button[type=submit]');
  bar.hidden = false;
  if (!('uploadProgress' in form.dataset)) {
    status.textContent = form.dataset.busy || '正在处理……';
    return;
  }
  e.preventDefault();
  button.disabled = true;
  form.querySelectorAll('.field-error').forEach((el) => el.remove());
  const xhr = new XMLHttpRequest();
  xhr.open('POST', form.action);
  xhr.upload.onprogress = (p) => {
    if (!p.lengthComputable) return;
    progress.value = Math.round((p.loaded * 100) / p.total);
    status.textContent = `已上传 ${progress.value}%`;
  };
  xhr.upload.onload = () => {
    progress.removeAttribute('value');
    status.textContent = '上传完成,正在逐行检查……';
  };
  const refused = (texts) => {
    bar.hidden = true;
    button.disabled = false;
    const input = form.querySelector('input[type=file]');
    const note = document.createElement('p');
    note.className = 'error field-error';
    note.id = 'error-file';
    note.setAttribute('role', 'alert');
    note.textContent = texts.join(';');
    input.insertAdjacentElement('afterend', note);
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', note.id);
    input.focus();
  };
  xhr.onload = () => {
    if (xhr.status < 400 && xhr.responseURL) {
      location.assign(xhr.responseURL);
      return;
    }
    const doc = new DOMParser().parseFromString(xhr.responseText, 'text/html');
    const texts = [...doc.querySelectorAll('ul.errors li, .notice')].map((el) => el.textContent.trim());
    refused(texts.length ? texts : [`上传未成功(${xhr.status})`]);
  };
  xhr.onerror = () => refused(['上传失败,请检查网络后重试']);
  xhr.send(new FormData(form));
});
