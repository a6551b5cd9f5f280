// Gaung's progressive enhancements. Every page works without this file; with it, the editor counts
// live and uploads with progress, reviewers get keyboard shortcuts, and risky buttons ask first.
// Text from the server is only ever put into the page with textContent.
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';

  // Forms that undo something ask before they are sent.
  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  // The reports page's print button (printing from the browser's menu works without it).
  for (const button of document.querySelectorAll('button[data-print]')) {
    button.hidden = false;
    button.addEventListener('click', () => window.print());
  }

  for (const input of document.querySelectorAll('[data-select-on-focus]')) {
    input.addEventListener('focus', () => input.select());
  }

  // Typing a time picks "at a time" for that channel.
  for (const input of document.querySelectorAll('input[type="datetime-local"][name^="time_"]')) {
    input.addEventListener('input', () => {
      const radio = document.querySelector(`input[name="at_${input.name.slice(5)}"][value="time"]`);
      if (radio) radio.checked = true;
    });
  }

  // Keyboard shortcuts: j/k move through the inbox; elements with data-shortcut answer their key.
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    // Keys typed into text belong to the text; checkboxes and radio buttons take no letters.
    const typing =
      target instanceof HTMLElement &&
      (target.isContentEditable ||
        /^(TEXTAREA|SELECT)$/.test(target.tagName) ||
        (target instanceof HTMLInputElement && !/^(checkbox|radio|button|submit|reset)$/.test(target.type)));
    if (typing) return;
    const inbox = document.querySelector('[data-inbox]');
    if (inbox && (event.key === 'j' || event.key === 'k')) {
      const items = [...inbox.querySelectorAll('[data-item]')];
      if (items.length === 0) return;
      const at = items.indexOf(document.activeElement);
      const next = at < 0 ? 0 : Math.min(items.length - 1, Math.max(0, at + (event.key === 'j' ? 1 : -1)));
      items[next].focus();
      event.preventDefault();
      return;
    }
    const element = document.querySelector(`[data-shortcut="${CSS.escape(event.key)}"]`);
    if (!element) return;
    event.preventDefault();
    if (element instanceof HTMLAnchorElement) {
      window.location.assign(element.href);
      return;
    }
    element.scrollIntoView({ block: 'center' });
    element.focus();
  });

  const editor = document.querySelector('form[data-editor]');
  if (!editor) return;

  // Live per-channel counters: the server renders and validates with the same rules as approval.
  const watched = new Set(['body', 'sourceUrl', 'link', 'tags']);
  let timer = 0;
  let sequence = 0;

  const mediaIds = () =>
    [...editor.querySelectorAll('.medium')]
      .filter((item) => !item.querySelector('input[name="drop"]:checked'))
      .map((item) => item.querySelector('input[name="media"]')?.value)
      .filter((id) => id);

  function showIssues(container, issues) {
    container.replaceChildren();
    if (issues.length === 0) return;
    const list = document.createElement('ul');
    list.className = 'issues';
    for (const issue of issues) {
      const item = document.createElement('li');
      item.className = `issue issue-${issue.severity}`;
      const label = document.createElement('span');
      label.className = 'issue-severity';
      label.textContent = issue.label;
      item.append(label, ` ${issue.message}`);
      list.append(item);
    }
    container.append(list);
  }

  async function refresh() {
    const mine = ++sequence;
    const payload = {
      body: editor.elements.body.value,
      sourceUrl: editor.elements.sourceUrl.value,
      link: editor.elements.link.value,
      tags: editor.elements.tags.value,
      media: mediaIds(),
    };
    let response;
    try {
      response = await fetch('/ui/preview', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify(payload),
      });
    } catch {
      return;
    }
    if (!response.ok || mine !== sequence) return;
    const data = await response.json();
    for (const channel of data.channels) {
      const item = editor.querySelector(`[data-channel="${CSS.escape(channel.channelId)}"]`);
      if (!item) continue;
      item.querySelector('[data-used]').textContent = String(channel.used);
      item.querySelector('[data-limit]').textContent = String(channel.limit);
      item.querySelector('[data-counter]').classList.toggle('over', channel.over);
      item.querySelector('[data-text]').textContent = channel.text;
      showIssues(item.querySelector('[data-issues]'), channel.issues);
    }
  }

  const schedule = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 250);
  };

  editor.addEventListener('input', (event) => {
    if (watched.has(event.target.name)) schedule();
  });
  editor.addEventListener('change', (event) => {
    if (event.target.name === 'drop') schedule();
  });

  // Uploads: straight to the media API with progress; the editor keeps the returned id.
  const list = editor.querySelector('#media-list');
  const template = editor.querySelector('#medium-template');
  const picker = editor.querySelector('[data-upload]');
  // Without this script the form carries one file and an "attach" button; here files upload as chosen.
  editor.querySelector('[data-attach]')?.remove();
  if (picker) picker.multiple = true;
  const pending = new Set();
  const submitButtons = () => editor.querySelectorAll('button[type="submit"]');
  const settle = () => {
    for (const button of submitButtons()) button.disabled = pending.size > 0;
  };

  function upload(file) {
    const item = template.content.firstElementChild.cloneNode(true);
    const hidden = item.querySelector('input[name="media"]');
    const progress = item.querySelector('progress');
    const status = item.querySelector('.upload-status');
    const image = item.querySelector('img');
    const alt = item.querySelector('label.alt input');
    status.textContent = file.name;
    list.append(item);
    item.querySelector('[data-remove]').addEventListener('click', () => {
      item.remove();
      schedule();
    });

    const request = new XMLHttpRequest();
    pending.add(request);
    settle();
    request.open('POST', '/api/v1/media');
    request.setRequestHeader('x-csrf-token', csrf);
    request.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) progress.value = Math.round((event.loaded / event.total) * 100);
    });
    const done = () => {
      pending.delete(request);
      settle();
    };
    request.addEventListener('load', () => {
      done();
      let answer = null;
      try {
        answer = JSON.parse(request.responseText);
      } catch {
        answer = null;
      }
      if ((request.status === 200 || request.status === 201) && answer?.id) {
        hidden.value = answer.id;
        item.dataset.medium = answer.id;
        alt.id = `alt_${answer.id}`;
        alt.name = `alt_${answer.id}`;
        if (answer.thumbnailUrl) {
          image.src = answer.thumbnailUrl;
          image.hidden = false;
        }
        progress.remove();
        status.textContent = '';
        schedule();
      } else {
        hidden.remove();
        progress.remove();
        status.textContent = answer?.detail ?? template.dataset.failed;
        status.classList.add('error-text');
      }
    });
    request.addEventListener('error', () => {
      done();
      hidden.remove();
      progress.remove();
      status.textContent = template.dataset.failed;
      status.classList.add('error-text');
    });
    const body = new FormData();
    body.append('file', file);
    request.send(body);
  }

  picker?.addEventListener('change', () => {
    for (const file of picker.files) upload(file);
    picker.value = '';
  });
})();
