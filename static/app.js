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
