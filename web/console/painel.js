/*
 * Painel Universal — console de monitoramento, served at /painel.
 *
 * Plain ES2017, no build step. It talks to the monitoring API under
 * /monitoramento (REST + the WebSocket at /monitoramento/ws) and draws with
 * uPlot (the global `uPlot` from /painel/assets/vendor/uplot/uPlot.iife.min.js,
 * loaded before this file). The page runs under a CSP with script-src and
 * style-src 'self': no inline code, no style="" attributes; styles set from
 * here go through element.style, which that policy allows.
 *
 * Stable hooks for tests: #atualizacoes (count of "amostra" messages),
 * #conexao[data-estado], #ultima-amostra, #grafico-{cpu,memoria,disco,rede}
 * and #grafico-historico (each with data-pontos = points drawn),
 * #alertas-ativos > li#alerta-<id>, button[data-acao="reconhecer"],
 * #tabela-regras, #form-regra, #historico-camada.
 */
(function () {
  'use strict';

  const API = '/monitoramento';
  const JANELA_S = 300;          // live charts keep the last 5 minutes…
  const MAX_PONTOS = 1500;       // …and never more than this many points
  const ALTURA_VIVO = 200;
  const ALTURA_HISTORICO = 280;
  const RE_DISCO = /^disk\.(.+)\.used_pct$/;
  const RE_REDE = /^net\.(.+)\.(rx|tx)_bps$/;

  // Metric names for the value cards. cpu.total and mem.used_pct are fixed
  // by the contract; for the others the first name present wins.
  const NOMES_CARTOES = {
    cpu: ['cpu.total'],
    mem: ['mem.used_pct'],
    memUsada: ['mem.used', 'mem.used_bytes'],
    memTotal: ['mem.total', 'mem.total_bytes'],
    swap: ['swap.used_pct', 'mem.swap.used_pct', 'mem.swap_used_pct'],
    swapTotal: ['swap.total', 'swap.total_bytes', 'mem.swap.total', 'mem.swap_total'],
    load1: ['load.1', 'load.load1', 'load1', 'load.1m', 'load.avg1'],
    load5: ['load.5', 'load.load5', 'load5', 'load.5m', 'load.avg5'],
    load15: ['load.15', 'load.load15', 'load15', 'load.15m', 'load.avg15'],
    processos: ['proc.count', 'procs.total', 'proc.total', 'processes.total', 'procs', 'host.procs', 'processos'],
  };

  const PALETA = ['#1d5fd1', '#d9480f', '#2b8a3e', '#7048e8', '#c2255c', '#0b7285', '#e67700', '#5c940d', '#862e9c', '#495057'];

  // ---------------------------------------------------------------- helpers

  const $ = (id) => document.getElementById(id);

  function el(tag, props, filhos) {
    const e = document.createElement(tag);
    if (props) {
      for (const k of Object.keys(props)) {
        const v = props[k];
        if (v == null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = v;
        else if (k === 'data') Object.keys(v).forEach((dk) => { e.dataset[dk] = String(v[dk]); });
        else e.setAttribute(k, v === true ? '' : String(v));
      }
    }
    if (filhos != null) {
      for (const f of [].concat(filhos)) {
        if (f == null || f === false) continue;
        e.append(f instanceof Node ? f : String(f));
      }
    }
    return e;
  }

  const finito = (v) => typeof v === 'number' && Number.isFinite(v);
  const numero = (v) => (finito(v) ? v : null);

  function primeiro(valores, nomes) {
    if (!valores) return null;
    for (const n of nomes) if (finito(valores[n])) return valores[n];
    return null;
  }

  // The session: an access token (15 min) and a refresh token, kept in sessionStorage (gone
  // when the tab closes). A 401 first tries one refresh, then shows the login form.
  function lerSessao(chave) {
    try {
      return window.sessionStorage.getItem(chave) || '';
    } catch (_) {
      return '';
    }
  }

  function token() { return lerSessao('painel_token'); }

  function guardarSessao(r) {
    try {
      window.sessionStorage.setItem('painel_token', r.access_token || '');
      window.sessionStorage.setItem('painel_refresh', r.refresh_token || '');
    } catch (_) { /* private mode: the session lasts until reload */ }
  }

  function limparSessao() {
    try {
      window.sessionStorage.removeItem('painel_token');
      window.sessionStorage.removeItem('painel_refresh');
    } catch (_) { /* nothing to clear */ }
  }

  async function postarJSON(caminho, corpo) {
    const resp = await fetch(caminho, {
      method: 'POST', cache: 'no-store', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, application/problem+json' },
      body: JSON.stringify(corpo),
    });
    let dados = null;
    try { dados = await resp.json(); } catch (_) { dados = null; }
    return { resp, dados };
  }

  let renovando = null;
  // renovar trades the refresh token for a new pair (once at a time); false when it cannot.
  function renovar() {
    const rt = lerSessao('painel_refresh');
    if (!rt) return Promise.resolve(false);
    if (!renovando) {
      renovando = postarJSON('/auth/refresh', { refresh_token: rt })
        .then(({ resp, dados }) => {
          // Only a refused refresh token ends the session; 429 or 503 may pass.
          if (resp.status === 401) { limparSessao(); return false; }
          if (!resp.ok || !dados || !dados.access_token) return false;
          guardarSessao(dados);
          return true;
        })
        .catch(() => false)
        .finally(() => { renovando = null; });
    }
    return renovando;
  }

  const NUM0 = new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 0 });
  const NUM1 = new Intl.NumberFormat('pt-BR', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const NUM2 = new Intl.NumberFormat('pt-BR', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const NUMX = new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 2 });
  const DATA_HORA = new Intl.DateTimeFormat('pt-BR', {
    day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const DATA_CURTA = new Intl.DateTimeFormat('pt-BR', {
    day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const HORA = new Intl.DateTimeFormat('pt-BR', { hour: '2-digit', minute: '2-digit', second: '2-digit' });

  const pct = (v) => (finito(v) ? NUM1.format(v) + '%' : '—');
  const pctEixo = (v) => (finito(v) ? NUMX.format(v) + '%' : '');

  function escalado(v, base, unidades) {
    if (!finito(v)) return '—';
    let i = 0;
    let x = Math.abs(v);
    while (x >= base && i < unidades.length - 1) { x /= base; i++; }
    const s = x >= 100 || i === 0 ? NUM0.format(x) : NUM1.format(x);
    return (v < 0 ? '-' : '') + s + ' ' + unidades[i];
  }
  const bytesPorSeg = (v) => escalado(v, 1000, ['B/s', 'kB/s', 'MB/s', 'GB/s', 'TB/s']);
  const bytes = (v) => escalado(v, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB']);

  function data(iso) {
    if (!iso) return null;
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  const dataHora = (iso) => { const d = data(iso); return d ? DATA_HORA.format(d) : '—'; };
  const dataCurta = (iso) => { const d = data(iso); return d ? DATA_CURTA.format(d) : '—'; };

  function relativo(iso) {
    const d = data(iso);
    if (!d) return '';
    const s = Math.max(0, Math.round((Date.now() - d.getTime()) / 1000));
    if (s < 60) return 'há instantes';
    if (s < 3600) return 'há ' + Math.floor(s / 60) + ' min';
    if (s < 86400) return 'há ' + Math.floor(s / 3600) + ' h';
    return 'há ' + Math.floor(s / 86400) + ' d';
  }

  function mostrarMensagem(id, texto) {
    const m = $(id);
    if (!m) return;
    m.textContent = texto;
    m.hidden = !texto;
  }

  // ------------------------------------------------------------------- API

  class ErroAPI extends Error {
    constructor(status, problema, mensagem) {
      super(mensagem);
      this.status = status;
      this.problema = problema;
    }
  }

  function descreverErro(status, p) {
    let base;
    if (status === 0) base = 'Sem conexão com o servidor';
    else if (status === 401) base = 'Não autorizado (faça login novamente)';
    else if (status === 403) base = 'Sem permissão';
    else if (status === 404) base = 'Não encontrado';
    else if (status === 409) base = 'Conflito';
    else if (status === 400 || status === 422) base = 'Dados inválidos';
    else if (status === 429) base = 'Muitas requisições; tente de novo em instantes';
    else if (status >= 500) base = 'Erro no servidor (' + status + ')';
    else base = 'Erro ' + status;
    const detalhe = p && (p.detail || p.title);
    return detalhe && detalhe !== base ? base + ': ' + detalhe : base + '.';
  }

  function api(metodo, caminho, corpo) { return apiEm(metodo, API + caminho, corpo, false); }

  async function apiEm(metodo, caminho, corpo, repetida) {
    const headers = { Accept: 'application/json, application/problem+json' };
    const t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    const init = { method: metodo, headers, credentials: 'same-origin', cache: 'no-store' };
    if (corpo !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(corpo);
    }
    let resp;
    try {
      resp = await fetch(caminho, init);
    } catch (_) {
      throw new ErroAPI(0, null, descreverErro(0, null));
    }
    if (resp.status === 401 && !repetida) {
      const tinhaSessao = !!(token() || lerSessao('painel_refresh'));
      if (await renovar()) return apiEm(metodo, caminho, corpo, true);
      mostrarLogin(tinhaSessao ? 'Sua sessão terminou; entre de novo.' : '');
    }
    let dados = null;
    if (resp.status !== 204 && (resp.headers.get('Content-Type') || '').includes('json')) {
      try { dados = await resp.json(); } catch (_) { dados = null; }
    }
    if (!resp.ok) throw new ErroAPI(resp.status, dados, descreverErro(resp.status, dados));
    return dados;
  }

  // ---------------------------------------------------------- metric names

  const catalogo = new Map(); // nome -> {unidade, descricao}

  async function carregarNomes() {
    try {
      const r = await api('GET', '/metricas/nomes');
      const lista = r && Array.isArray(r.nomes) ? r.nomes : [];
      catalogo.clear();
      for (const m of lista) if (m && typeof m.nome === 'string') catalogo.set(m.nome, m);
      preencherNomes();
    } catch (e) {
      mostrarMensagem('historico-mensagem', 'Não foi possível carregar a lista de métricas: ' + e.message);
    }
  }

  function preencherNomes() {
    const nomes = Array.from(catalogo.keys()).sort();
    const lista = $('metricas-nomes');
    if (lista) {
      lista.textContent = '';
      for (const n of nomes) {
        const m = catalogo.get(n);
        const rotulo = [m.descricao, m.unidade ? '(' + m.unidade + ')' : ''].filter(Boolean).join(' ');
        lista.append(el('option', { value: n, label: rotulo || null }));
      }
    }
    const sel = $('historico-metrica');
    if (sel && nomes.length) {
      const atual = sel.value || 'cpu.total';
      sel.textContent = '';
      const grupos = new Map();
      for (const n of nomes) {
        const g = n.split('.')[0];
        if (!grupos.has(g)) grupos.set(g, []);
        grupos.get(g).push(n);
      }
      for (const [g, membros] of grupos) {
        const og = el('optgroup', { label: g });
        for (const n of membros) {
          const m = catalogo.get(n);
          og.append(el('option', { value: n, text: m && m.descricao ? n + ' — ' + m.descricao : n }));
        }
        sel.append(og);
      }
      sel.value = catalogo.has(atual) ? atual : (catalogo.has('cpu.total') ? 'cpu.total' : nomes[0]);
    }
    atualizarAjudaMetrica();
  }

  function atualizarAjudaMetrica() {
    const ajuda = $('regra-metrica-ajuda');
    const inp = $('regra-metrica');
    if (!ajuda || !inp) return;
    const m = catalogo.get(inp.value.trim());
    ajuda.textContent = m ? [m.descricao, m.unidade ? 'unidade: ' + m.unidade : ''].filter(Boolean).join(' — ') : '';
  }

  function formatadorUnidade(unidade) {
    const u = (unidade || '').trim();
    if (u === '%') return pct;
    if (/^(B|bytes?)\/s$/i.test(u)) return bytesPorSeg;
    if (/^(B|bytes?)$/i.test(u)) return bytes;
    return (v) => (finito(v) ? NUMX.format(v) + (u ? ' ' + u : '') : '—');
  }

  // ------------------------------------------------------------ uPlot bits

  const NOMES_DATAS = {
    MMMM: ['janeiro', 'fevereiro', 'março', 'abril', 'maio', 'junho', 'julho', 'agosto', 'setembro', 'outubro', 'novembro', 'dezembro'],
    MMM: ['jan', 'fev', 'mar', 'abr', 'mai', 'jun', 'jul', 'ago', 'set', 'out', 'nov', 'dez'],
    WWWW: ['domingo', 'segunda-feira', 'terça-feira', 'quarta-feira', 'quinta-feira', 'sexta-feira', 'sábado'],
    WWW: ['dom', 'seg', 'ter', 'qua', 'qui', 'sex', 'sáb'],
  };

  // 24-hour, day/month time axis (uPlot's default is US style). Rows:
  // [tick step (s), tick format, then the line added when the year, month,
  // day, hour, minute or second rolls over, mode 1 = append].
  const NL = '\n';
  const D = 86400;
  const EIXO_TEMPO = [
    [D * 365, '{YYYY}', null, null, null, null, null, null, 1],
    [D * 28, '{MMM}', NL + '{YYYY}', null, null, null, null, null, 1],
    [D, '{DD}/{MM}', NL + '{YYYY}', null, null, null, null, null, 1],
    [3600, '{HH}:{mm}', NL + '{DD}/{MM}/{YY}', null, NL + '{DD}/{MM}', null, null, null, 1],
    [60, '{HH}:{mm}', NL + '{DD}/{MM}/{YY}', null, NL + '{DD}/{MM}', null, null, null, 1],
    [1, '{HH}:{mm}:{ss}', NL + '{DD}/{MM}/{YY}', null, NL + '{DD}/{MM}', null, null, null, 1],
  ];
  // Tick steps: whole seconds and up (the samples are at most 4 a second).
  const PASSOS_TEMPO = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
    D, D * 2, D * 3, D * 7, D * 14, D * 30, D * 90, D * 180, D * 365];

  const uPlotPronto = () => typeof window.uPlot === 'function';

  function rangePct(u, min, max) {
    const topo = finito(max) ? Math.max(100, max) : 100;
    return [0, topo];
  }

  // From zero, and at least up to 1 kB/s so an idle link draws a sane axis.
  function rangeDesdeZero(u, min, max) {
    const topo = Math.max(1000, finito(max) ? max * 1.15 : 0);
    const base = finito(min) && min < 0 ? min * 1.15 : 0;
    return [base, topo];
  }

  function opcoes({ largura, altura, series, formatoY, range, tamanhoY, bands, zoom }) {
    // formatoY labels the y axis ticks; each series formats its own legend value.
    const eixo = { stroke: '#5f6b7a', grid: { stroke: '#eef1f5', width: 1 }, ticks: { stroke: '#dde2ea', width: 1 } };
    return {
      width: largura,
      height: altura,
      fmtDate: (tpl) => window.uPlot.fmtDate(tpl, NOMES_DATAS),
      scales: { x: { time: true }, y: { range } },
      axes: [
        Object.assign({ values: EIXO_TEMPO, incrs: PASSOS_TEMPO, space: 72 }, eixo),
        Object.assign({
          size: tamanhoY || 56,
          values: (u, vals) => vals.map((v) => (v == null ? '' : formatoY(v))),
        }, eixo),
      ],
      series: [{ label: 'Horário', value: '{DD}/{MM} {HH}:{mm}:{ss}' }].concat(series),
      bands: bands || undefined,
      legend: { live: true },
      cursor: zoom ? {} : { drag: { x: false, y: false } },
    };
  }

  function larguraDe(elemento) {
    const w = Math.floor(elemento.clientWidth || 0);
    return w > 50 ? w : 320;
  }

  // Resizes a chart to its container's width, at most once a frame.
  function acompanharLargura(elemento, obterGrafico, altura) {
    if (typeof ResizeObserver !== 'function') {
      window.addEventListener('resize', () => {
        const u = obterGrafico();
        if (u) u.setSize({ width: larguraDe(elemento), height: altura });
      });
      return;
    }
    let agendado = false;
    new ResizeObserver(() => {
      if (agendado) return;
      agendado = true;
      requestAnimationFrame(() => {
        agendado = false;
        const u = obterGrafico();
        const w = larguraDe(elemento);
        if (u && Math.abs(u.width - w) >= 1) u.setSize({ width: w, height: altura });
      });
    }).observe(elemento);
  }

  function placeholder(elemento, texto) {
    elemento.textContent = '';
    elemento.append(el('div', { class: 'grafico-vazio', text: texto }));
  }

  // ------------------------------------------------------- live chart data

  // One shared time axis for every live series; columns aligned to it
  // (null where a series has no point at that time).
  const vivo = { t: [], cols: new Map() };

  const relevante = (nome) => nome === 'cpu.total' || nome === 'mem.used_pct' || RE_DISCO.test(nome) || RE_REDE.test(nome);

  function carregarSeries(series) {
    const tempos = new Set();
    const entradas = [];
    if (series && typeof series === 'object') {
      for (const nome of Object.keys(series)) {
        const pts = series[nome];
        if (!relevante(nome) || !Array.isArray(pts)) continue;
        entradas.push([nome, pts]);
        for (const p of pts) if (Array.isArray(p) && finito(p[0])) tempos.add(p[0]);
      }
    }
    const t = Array.from(tempos).sort((a, b) => a - b);
    const indice = new Map(t.map((x, i) => [x, i]));
    vivo.t = t;
    vivo.cols = new Map();
    for (const [nome, pts] of entradas) {
      const col = new Array(t.length).fill(null);
      for (const p of pts) {
        if (!Array.isArray(p)) continue;
        const i = indice.get(p[0]);
        if (i !== undefined) col[i] = numero(p[1]);
      }
      vivo.cols.set(nome, col);
    }
    aparar();
  }

  function anexarAmostra(t, valores) {
    if (!finito(t) || !valores || typeof valores !== 'object') return;
    const n = vivo.t.length;
    if (n && t < vivo.t[n - 1]) return; // out of order: ignore
    if (n && t === vivo.t[n - 1]) {
      // Same instant again: overwrite.
      for (const [nome, col] of vivo.cols) if (nome in valores) col[n - 1] = numero(valores[nome]);
      return;
    }
    vivo.t.push(t);
    for (const [nome, col] of vivo.cols) col.push(numero(valores[nome]));
    for (const nome of Object.keys(valores)) {
      if (vivo.cols.has(nome) || !relevante(nome)) continue;
      const col = new Array(n).fill(null);
      col.push(numero(valores[nome]));
      vivo.cols.set(nome, col);
    }
    aparar();
  }

  function aparar() {
    const n = vivo.t.length;
    if (!n) return;
    const desde = vivo.t[n - 1] - JANELA_S;
    let cortar = 0;
    while (cortar < n && vivo.t[cortar] < desde) cortar++;
    cortar = Math.max(cortar, n - MAX_PONTOS);
    if (cortar > 0) {
      vivo.t.splice(0, cortar);
      for (const col of vivo.cols.values()) col.splice(0, cortar);
    }
    for (const [nome, col] of vivo.cols) if (!col.some((v) => v !== null)) vivo.cols.delete(nome);
  }

  // ------------------------------------------------------------ live charts

  function porRotulo(re) {
    return (a, b) => {
      const ma = re.exec(a);
      const mb = re.exec(b);
      return (ma ? ma[1] : a).localeCompare(mb ? mb[1] : b, 'pt-BR') || a.localeCompare(b);
    };
  }

  const DEFINICOES = [
    {
      id: 'grafico-cpu',
      escolher: (nomes) => nomes.filter((n) => n === 'cpu.total'),
      serie: () => ({ label: 'CPU total', stroke: PALETA[0], fill: 'rgba(29, 95, 209, 0.08)' }),
      formato: pct, eixo: pctEixo, range: rangePct, tamanhoY: 52,
    },
    {
      id: 'grafico-memoria',
      escolher: (nomes) => nomes.filter((n) => n === 'mem.used_pct'),
      serie: () => ({ label: 'Memória usada', stroke: PALETA[3], fill: 'rgba(112, 72, 232, 0.08)' }),
      formato: pct, eixo: pctEixo, range: rangePct, tamanhoY: 52,
    },
    {
      id: 'grafico-disco',
      escolher: (nomes) => nomes.filter((n) => RE_DISCO.test(n)).sort(porRotulo(RE_DISCO)),
      serie: (nome, i) => ({ label: RE_DISCO.exec(nome)[1], stroke: PALETA[i % PALETA.length] }),
      formato: pct, eixo: pctEixo, range: rangePct, tamanhoY: 52,
    },
    {
      id: 'grafico-rede',
      escolher: (nomes) => nomes.filter((n) => RE_REDE.test(n)).sort(porRotulo(RE_REDE)),
      serie: (nome, i, nomes) => {
        const m = RE_REDE.exec(nome);
        const interfaces = Array.from(new Set(nomes.map((n) => RE_REDE.exec(n)[1])));
        const cor = PALETA[interfaces.indexOf(m[1]) % PALETA.length];
        return m[2] === 'rx'
          ? { label: m[1] + ' ↓ recebido', stroke: cor }
          : { label: m[1] + ' ↑ enviado', stroke: cor, dash: [6, 4] };
      },
      formato: bytesPorSeg, eixo: bytesPorSeg, range: rangeDesdeZero, tamanhoY: 76,
    },
  ];

  class GraficoVivo {
    constructor(def) {
      this.def = def;
      this.el = $(def.id);
      this.u = null;
      this.chave = null;
      if (!this.el) return;
      placeholder(this.el, 'Aguardando dados…');
      acompanharLargura(this.el, () => this.u, ALTURA_VIVO);
    }

    atualizar() {
      if (!this.el) return;
      if (!uPlotPronto()) {
        if (this.chave !== '!') placeholder(this.el, 'A biblioteca de gráficos não carregou.');
        this.chave = '!';
        return;
      }
      const nomes = this.def.escolher(Array.from(vivo.cols.keys()));
      this.el.dataset.pontos = String(nomes.length ? vivo.t.length : 0);
      if (!nomes.length) {
        if (this.u) { this.u.destroy(); this.u = null; }
        if (this.chave !== '') placeholder(this.el, vivo.t.length ? 'Sem séries para este gráfico.' : 'Aguardando dados…');
        this.chave = '';
        return;
      }
      const dados = [vivo.t].concat(nomes.map((n) => vivo.cols.get(n)));
      const chave = nomes.join('\n');
      if (this.u && chave === this.chave) {
        this.u.setData(dados);
        return;
      }
      if (this.u) this.u.destroy();
      this.el.textContent = '';
      const d = this.def;
      const series = nomes.map((n, i) => Object.assign({ width: 1.5, spanGaps: false, value: (u, v) => d.formato(v) }, d.serie(n, i, nomes)));
      this.u = new window.uPlot(opcoes({
        largura: larguraDe(this.el), altura: ALTURA_VIVO, series, formatoY: d.eixo, range: d.range, tamanhoY: d.tamanhoY,
      }), dados, this.el);
      this.chave = chave;
    }
  }

  let graficos = [];
  const redesenharGraficos = () => { for (const g of graficos) g.atualizar(); };

  // ------------------------------------------------------------ value cards

  function cartao(id, valor, detalhe, nivel) {
    const c = $(id);
    if (!c) return;
    const v = c.querySelector('[data-valor]');
    if (v) v.textContent = valor;
    const d = c.querySelector('[data-detalhe]');
    if (d && detalhe != null) d.textContent = detalhe;
    const b = c.querySelector('[data-barra]');
    if (b) {
      const p = finito(nivel) ? Math.max(0, Math.min(100, nivel)) : 0;
      b.style.width = p + '%';
      b.classList.toggle('nivel-aviso', p >= 70 && p < 90);
      b.classList.toggle('nivel-critico', p >= 90);
    }
  }

  function atualizarValores(valores) {
    if (!valores || typeof valores !== 'object') return;
    const N = NOMES_CARTOES;
    const cpu = primeiro(valores, N.cpu);
    if (cpu !== null) cartao('valor-cpu', pct(cpu), null, cpu);

    const mem = primeiro(valores, N.mem);
    if (mem !== null) {
      const usada = primeiro(valores, N.memUsada);
      const total = primeiro(valores, N.memTotal);
      cartao('valor-memoria', pct(mem), usada !== null && total !== null ? bytes(usada) + ' de ' + bytes(total) : 'em uso', mem);
    }

    const swap = primeiro(valores, N.swap);
    const swapTotal = primeiro(valores, N.swapTotal);
    if (swapTotal === 0) cartao('valor-swap', '—', 'sem swap configurada', 0);
    else if (swap !== null) cartao('valor-swap', pct(swap), swapTotal !== null ? 'de ' + bytes(swapTotal) : 'em uso', swap);

    const l1 = primeiro(valores, N.load1);
    const l5 = primeiro(valores, N.load5);
    const l15 = primeiro(valores, N.load15);
    if (l1 !== null || l5 !== null || l15 !== null) {
      const f = (v) => (v === null ? '—' : NUM2.format(v));
      cartao('valor-load', f(l1), '5 min ' + f(l5) + ' · 15 min ' + f(l15));
    }

    const procs = primeiro(valores, N.processos);
    if (procs !== null) cartao('valor-processos', NUM0.format(procs), null);

    let pior = null;
    for (const nome of Object.keys(valores)) {
      const m = RE_DISCO.exec(nome);
      if (m && finito(valores[nome]) && (!pior || valores[nome] > pior.v)) pior = { ponto: m[1], v: valores[nome] };
    }
    if (pior) cartao('valor-disco', pct(pior.v), 'ponto de montagem ' + pior.ponto, pior.v);
  }

  // ----------------------------------------------------------------- alerts

  const ativos = new Map(); // id -> Evento
  const reconhecendo = new Set();
  const ORDEM_SEV = { critico: 0, aviso: 1, info: 2 };
  const NOME_SEV = { critico: 'crítico', aviso: 'aviso', info: 'info' };
  const NOME_ESTADO = { disparado: 'disparado', resolvido: 'resolvido', pendente: 'pendente', inativo: 'normal' };

  const ordemSev = (e) => (Object.prototype.hasOwnProperty.call(ORDEM_SEV, e.severidade) ? ORDEM_SEV[e.severidade] : 9);
  const selo = (classe, texto) => el('span', { class: 'selo ' + classe, text: texto });
  const seloSev = (s) => selo('sev-' + s, NOME_SEV[s] || s || '—');

  function definirAtivos(lista) {
    ativos.clear();
    if (Array.isArray(lista)) for (const e of lista) if (e && e.id != null && e.estado !== 'resolvido') ativos.set(e.id, e);
    desenharAtivos();
  }

  function receberAlerta(ev) {
    if (!ev || ev.id == null) return;
    if (ev.estado === 'resolvido') ativos.delete(ev.id);
    else ativos.set(ev.id, ev);
    desenharAtivos();
    agendar('eventos', carregarEventos, 800);
    agendar('regras', carregarRegras, 800);
  }

  function botaoReconhecer(ev, comId) {
    const ocupado = reconhecendo.has(String(ev.id));
    return el('button', {
      type: 'button',
      class: 'botao pequeno',
      id: comId ? 'reconhecer-' + ev.id : null,
      data: { acao: 'reconhecer', evento: ev.id },
      disabled: ocupado,
      text: ocupado ? 'Reconhecendo…' : 'Reconhecer',
    });
  }

  function desenharAtivos() {
    const ul = $('alertas-ativos');
    if (!ul) return;
    const lista = Array.from(ativos.values()).sort((a, b) =>
      (ordemSev(a) - ordemSev(b)) ||
      String(b.disparado_em || '').localeCompare(String(a.disparado_em || '')));
    ul.textContent = '';
    for (const ev of lista) {
      const reconhecido = !!ev.reconhecido_em;
      const quando = 'Desde ' + dataHora(ev.disparado_em) + ' (' + relativo(ev.disparado_em) + ')' +
        (reconhecido ? ' · reconhecido' + (ev.reconhecido_por ? ' por ' + ev.reconhecido_por : '') + ' em ' + dataHora(ev.reconhecido_em) : '');
      ul.append(el('li', {
        id: 'alerta-' + ev.id,
        class: 'alerta sev-' + (ev.severidade || 'info') + (reconhecido ? ' reconhecido' : ''),
        data: { evento: ev.id },
      }, [
        el('div', { class: 'alerta-titulo' }, [seloSev(ev.severidade), ' ', ev.regra_nome || ev.metrica || 'Alerta']),
        el('div', { class: 'alerta-mensagem', text: ev.mensagem || ((ev.metrica || '') + ' = ' + (finito(ev.valor) ? NUMX.format(ev.valor) : '?')) }),
        el('div', { class: 'alerta-quando', text: quando }),
        el('div', { class: 'alerta-acoes' }, reconhecido ? selo('estado-resolvido', 'reconhecido') : botaoReconhecer(ev, true)),
      ]));
    }
    const vazio = $('alertas-vazio');
    if (vazio) vazio.hidden = lista.length > 0;
    const total = $('alertas-ativos-total');
    if (total) {
      total.textContent = String(lista.length);
      total.classList.toggle('tem-alertas', lista.length > 0);
    }
  }

  async function reconhecer(id) {
    const chave = String(id);
    if (reconhecendo.has(chave)) return;
    reconhecendo.add(chave);
    desenharAtivos();
    desenharEventos();
    mostrarMensagem('alertas-mensagem', '');
    try {
      const ev = await api('POST', '/alertas/eventos/' + encodeURIComponent(chave) + '/reconhecer', {});
      reconhecendo.delete(chave);
      if (ev && ev.id != null) {
        if (ev.estado === 'resolvido') ativos.delete(ev.id);
        else if (ativos.has(ev.id)) ativos.set(ev.id, ev);
      } else {
        for (const [k, v] of ativos) if (String(k) === chave) ativos.set(k, Object.assign({}, v, { reconhecido_em: new Date().toISOString() }));
      }
      agendar('eventos', carregarEventos, 0);
    } catch (e) {
      reconhecendo.delete(chave);
      mostrarMensagem('alertas-mensagem', 'Não foi possível reconhecer o alerta: ' + e.message);
    }
    desenharAtivos();
    desenharEventos();
  }

  document.addEventListener('click', (e) => {
    const b = e.target instanceof Element ? e.target.closest('button[data-acao="reconhecer"]') : null;
    if (b && b.dataset.evento) reconhecer(b.dataset.evento);
  });

  // -------------------------------------------------------- recent events

  let eventos = null;

  async function carregarEventos() {
    try {
      const r = await api('GET', '/alertas/eventos?por_pagina=20');
      eventos = r || {};
      mostrarMensagem('eventos-mensagem', '');
    } catch (e) {
      mostrarMensagem('eventos-mensagem', 'Não foi possível carregar os eventos: ' + e.message);
      if (!eventos) eventos = { eventos: [], indisponivel: true };
    }
    desenharEventos();
  }

  function desenharEventos() {
    const corpo = $('eventos-corpo');
    if (!corpo || !eventos) return;
    const lista = Array.isArray(eventos.eventos) ? eventos.eventos : [];
    corpo.textContent = '';
    if (!lista.length) {
      corpo.append(el('tr', { class: 'linha-vazia' }, el('td', { colspan: 7, text: eventos.indisponivel ? 'Eventos indisponíveis.' : 'Nenhum evento registrado.' })));
    }
    for (const ev of lista) {
      if (!ev) continue;
      let reconhecido;
      if (ev.reconhecido_em) reconhecido = el('span', { title: dataHora(ev.reconhecido_em), text: 'sim' + (ev.reconhecido_por ? ', ' + ev.reconhecido_por : '') });
      else if (ev.estado === 'disparado' && ev.id != null) reconhecido = botaoReconhecer(ev, false);
      else reconhecido = '—';
      corpo.append(el('tr', { data: { evento: ev.id } }, [
        el('td', { class: 'nowrap', title: dataHora(ev.disparado_em), text: dataCurta(ev.disparado_em) }),
        el('td', { text: ev.regra_nome || '—' }),
        el('td', { class: 'col-opcional' }, seloSev(ev.severidade)),
        el('td', null, selo('estado-' + ev.estado, NOME_ESTADO[ev.estado] || ev.estado || '—')),
        el('td', { class: 'mono mensagem-evento', text: ev.mensagem || '' }),
        el('td', { class: 'nowrap col-opcional', title: ev.resolvido_em ? dataHora(ev.resolvido_em) : null, text: ev.resolvido_em ? dataCurta(ev.resolvido_em) : '—' }),
        el('td', null, reconhecido),
      ]));
    }
    const total = $('eventos-total');
    if (total) {
      total.textContent = finito(eventos.total) && eventos.total > 0
        ? 'Mostrando ' + lista.length + ' de ' + NUM0.format(eventos.total) + ' eventos (mais recentes primeiro).'
        : '';
    }
  }

  // ------------------------------------------------------------------ rules

  let regras = [];
  let regrasCarregadas = false;

  async function carregarRegras() {
    const inicio = Date.now();
    try {
      const r = await api('GET', '/alertas');
      regras = r && Array.isArray(r.regras) ? r.regras : [];
      regrasCarregadas = true;
      mostrarMensagem('regras-mensagem', '');
      descartarAlertasSemRegra(inicio);
    } catch (e) {
      mostrarMensagem('regras-mensagem', 'Não foi possível carregar as regras: ' + e.message);
    }
    desenharRegras();
  }

  // A deleted rule's open episode is closed by the server; drop it here too
  // (only episodes older than the rule list, which may predate a new rule).
  function descartarAlertasSemRegra(desde) {
    const ids = new Set(regras.map((r) => r && String(r.id)));
    let mudou = false;
    for (const [id, ev] of ativos) {
      const d = data(ev.disparado_em);
      if (ev.regra_id != null && !ids.has(String(ev.regra_id)) && d && d.getTime() < desde) {
        ativos.delete(id);
        mudou = true;
      }
    }
    if (mudou) desenharAtivos();
  }

  function resumoCanais(canais) {
    if (!Array.isArray(canais) || !canais.length) return el('span', { text: 'nenhum' });
    const partes = [];
    for (const c of canais) {
      if (!c) continue;
      if (c.tipo === 'websocket') partes.push(el('span', { text: 'painel' }));
      else if (c.tipo === 'webhook') partes.push(el('span', { title: c.url || '', text: 'webhook' }));
      else if (c.tipo === 'email') partes.push(el('span', { title: c.para || '', text: 'e-mail' }));
      else partes.push(el('span', { text: String(c.tipo) }));
    }
    const out = el('span');
    partes.forEach((p, i) => { if (i) out.append(', '); out.append(p); });
    return out;
  }

  function desenharRegras() {
    const corpo = $('regras-corpo');
    if (!corpo) return;
    corpo.textContent = '';
    if (!regras.length) {
      corpo.append(el('tr', { class: 'linha-vazia' }, el('td', { colspan: 7, text: regrasCarregadas ? 'Nenhuma regra cadastrada.' : 'Regras indisponíveis.' })));
      return;
    }
    const editando = ($('regra-id') || {}).value || '';
    for (const r of regras) {
      if (!r) continue;
      const cond = [
        el('span', { class: 'mono', text: r.metrica || '?' }), ' ',
        el('span', { class: 'nowrap', text: (r.operador || '?') + ' ' + (finito(r.limite) ? NUMX.format(r.limite) : '?') }),
      ];
      if (finito(r.limite_retorno) && r.limite_retorno !== r.limite) {
        cond.push(el('div', { class: 'sub', text: 'retorno em ' + NUMX.format(r.limite_retorno) }));
      }
      const classes = [r.ativo === false ? 'regra-desativada' : '', String(r.id) === editando ? 'editando' : ''].filter(Boolean).join(' ');
      corpo.append(el('tr', { id: 'regra-' + r.id, class: classes || null, data: { regra: r.id } }, [
        el('td', { text: r.nome || '—' }),
        el('td', { class: 'condicao' }, cond),
        el('td', { class: 'nowrap col-opcional', text: finito(r.duracao_segundos) ? r.duracao_segundos + ' s' : '—' }),
        el('td', { class: 'col-opcional' }, seloSev(r.severidade)),
        el('td', null, r.ativo === false ? selo('desativada', 'desativada') : selo('estado-' + r.estado, NOME_ESTADO[r.estado] || r.estado || '—')),
        el('td', { class: 'col-opcional' }, resumoCanais(r.canais)),
        el('td', null, el('div', { class: 'acoes-linha' }, [
          el('button', { type: 'button', class: 'botao secundario pequeno', data: { acao: 'editar', regra: r.id }, text: 'Editar' }),
          el('button', { type: 'button', class: 'botao perigo pequeno', data: { acao: 'excluir', regra: r.id }, text: 'Excluir' }),
        ])),
      ]));
    }
  }

  // Rule form fields: API field name -> [error element suffix, input id].
  const CAMPOS = {
    nome: 'regra-nome',
    metrica: 'regra-metrica',
    operador: 'regra-operador',
    limite: 'regra-limite',
    limite_retorno: 'regra-limite-retorno',
    duracao_segundos: 'regra-duracao',
    severidade: 'regra-severidade',
    repetir_a_cada_segundos: 'regra-repetir',
    ativo: 'regra-ativo',
    canais: 'regra-canal-websocket',
  };

  function limparErrosForm() {
    const form = $('form-regra');
    if (!form) return;
    for (const p of form.querySelectorAll('.erro-campo')) { p.textContent = ''; p.hidden = true; }
    for (const i of form.querySelectorAll('[aria-invalid]')) { i.removeAttribute('aria-invalid'); i.removeAttribute('aria-describedby'); }
    const geral = $('form-regra-erro');
    if (geral) { geral.textContent = ''; geral.hidden = true; }
  }

  function erroCampo(campo, inputId, msg) {
    const p = $('erro-' + campo);
    if (!p) return false;
    p.textContent = p.textContent ? p.textContent + ' ' + msg : msg;
    p.hidden = false;
    const inp = $(inputId);
    if (inp) {
      inp.setAttribute('aria-invalid', 'true');
      inp.setAttribute('aria-describedby', p.id);
    }
    return true;
  }

  // Common validation messages (Huma's wording) in Portuguese; anything
  // else is shown as the API wrote it.
  function traduzir(msg) {
    const s = String(msg || '');
    let m;
    if (/expected required property/i.test(s)) return 'Campo obrigatório.';
    if ((m = /expected number\s*>=\s*(\S+)/i.exec(s))) return 'Deve ser maior ou igual a ' + m[1] + '.';
    if ((m = /expected number\s*<=\s*(\S+)/i.exec(s))) return 'Deve ser menor ou igual a ' + m[1] + '.';
    if (/expected (number|integer)/i.test(s)) return 'Informe um número' + (/integer/i.test(s) ? ' inteiro' : '') + '.';
    if (/expected value to be one of/i.test(s)) return 'Valor inválido. ' + s.replace(/^.*one of/i, 'Opções:');
    if (/expected string length >=/i.test(s)) return 'Campo obrigatório.';
    if (/uri|url/i.test(s) && /expected|invalid/i.test(s)) return 'URL inválida.';
    if (/e-?mail/i.test(s) && /expected|invalid/i.test(s)) return 'E-mail inválido.';
    return s;
  }

  // Maps a problem+json error location (body.limite, body.canais[1].url…)
  // to [field, input id]; null when it names no field of the form.
  function localizar(erro, indiceCanais) {
    let loc = String((erro && erro.location) || '').replace(/^body\.?/, '');
    if (!loc) {
      const m = /property\s+"?([a-z_]+)"?/i.exec((erro && erro.message) || '');
      if (m) loc = m[1];
    }
    const mc = /^canais(?:\[(\d+)\])?/.exec(loc);
    if (mc) {
      const tipo = mc[1] !== undefined ? indiceCanais[Number(mc[1])] : null;
      if (tipo === 'webhook') return ['canal-webhook', 'regra-canal-webhook'];
      if (tipo === 'email') return ['canal-email', 'regra-canal-email'];
      return ['canais', 'regra-canal-websocket'];
    }
    const campo = loc.split(/[.[]/)[0];
    return Object.prototype.hasOwnProperty.call(CAMPOS, campo) ? [campo, CAMPOS[campo]] : null;
  }

  function lerNumero(id, campo, erros) {
    const inp = $(id);
    if (!inp || inp.value === '') {
      if (inp && inp.validity && inp.validity.badInput) erros.push([campo, id, 'Informe um número.']);
      return undefined;
    }
    const v = Number(inp.value);
    if (!Number.isFinite(v)) { erros.push([campo, id, 'Informe um número.']); return undefined; }
    return v;
  }

  function lerFormulario() {
    const erros = [];
    const valor = (id) => { const i = $(id); return i ? i.value.trim() : ''; };
    const corpo = {
      nome: valor('regra-nome'),
      metrica: valor('regra-metrica'),
      operador: valor('regra-operador'),
      limite: lerNumero('regra-limite', 'limite', erros),
      severidade: valor('regra-severidade'),
      duracao_segundos: lerNumero('regra-duracao', 'duracao_segundos', erros),
      repetir_a_cada_segundos: lerNumero('regra-repetir', 'repetir_a_cada_segundos', erros),
      canais: [],
      ativo: !!($('regra-ativo') || {}).checked,
    };
    const retorno = lerNumero('regra-limite-retorno', 'limite_retorno', erros);
    if (retorno !== undefined) corpo.limite_retorno = retorno;
    if (corpo.duracao_segundos === undefined) corpo.duracao_segundos = 0;
    if (corpo.repetir_a_cada_segundos === undefined) corpo.repetir_a_cada_segundos = 0;
    if (!corpo.nome) erros.push(['nome', 'regra-nome', 'Campo obrigatório.']);
    if (!corpo.metrica) erros.push(['metrica', 'regra-metrica', 'Campo obrigatório.']);
    if (corpo.limite === undefined && !erros.some((e) => e[0] === 'limite')) erros.push(['limite', 'regra-limite', 'Campo obrigatório.']);

    const indiceCanais = [];
    if (($('regra-canal-websocket') || {}).checked) { corpo.canais.push({ tipo: 'websocket' }); indiceCanais.push('websocket'); }
    const url = valor('regra-canal-webhook');
    if (url) { corpo.canais.push({ tipo: 'webhook', url }); indiceCanais.push('webhook'); }
    const para = valor('regra-canal-email');
    if (para) { corpo.canais.push({ tipo: 'email', para }); indiceCanais.push('email'); }
    return { corpo, erros, indiceCanais };
  }

  function modoFormulario(regra) {
    const editar = !!regra;
    const titulo = $('form-regra-titulo');
    if (titulo) titulo.textContent = editar ? 'Editar regra “' + (regra.nome || regra.id) + '”' : 'Nova regra';
    const salvar = $('regra-salvar');
    if (salvar) salvar.textContent = editar ? 'Salvar alterações' : 'Criar regra';
    const cancelar = $('regra-cancelar');
    if (cancelar) cancelar.textContent = editar ? 'Cancelar edição' : 'Limpar';
  }

  function preencherFormulario(r) {
    const def = (id, v) => { const i = $(id); if (i) i.value = v == null ? '' : String(v); };
    limparErrosForm();
    mostrarMensagemOk('');
    def('regra-id', r ? r.id : '');
    def('regra-nome', r ? r.nome : '');
    def('regra-metrica', r ? r.metrica : '');
    def('regra-operador', r ? r.operador : '>');
    def('regra-limite', r ? r.limite : '');
    // Left empty when equal to limite, so editing limite keeps them equal.
    def('regra-limite-retorno', r && finito(r.limite_retorno) && r.limite_retorno !== r.limite ? r.limite_retorno : '');
    def('regra-duracao', r ? r.duracao_segundos : 60);
    def('regra-severidade', r ? r.severidade : 'aviso');
    def('regra-repetir', r ? r.repetir_a_cada_segundos : 0);
    const canais = r && Array.isArray(r.canais) ? r.canais : (r ? [] : [{ tipo: 'websocket' }]);
    const ws = $('regra-canal-websocket');
    if (ws) ws.checked = canais.some((c) => c && c.tipo === 'websocket');
    const hook = canais.find((c) => c && c.tipo === 'webhook');
    def('regra-canal-webhook', hook ? hook.url : '');
    const mail = canais.find((c) => c && c.tipo === 'email');
    def('regra-canal-email', mail ? mail.para : '');
    const ativo = $('regra-ativo');
    if (ativo) ativo.checked = r ? r.ativo !== false : true;
    modoFormulario(r);
    atualizarAjudaMetrica();
    desenharRegras();
  }

  function mostrarMensagemOk(texto) {
    const ok = $('form-regra-ok');
    if (!ok) return;
    ok.textContent = texto;
    ok.hidden = !texto;
  }

  let salvando = false;

  async function salvarRegra(evento) {
    evento.preventDefault();
    if (salvando) return;
    limparErrosForm();
    mostrarMensagemOk('');
    const { corpo, erros, indiceCanais } = lerFormulario();
    if (erros.length) {
      for (const [campo, id, msg] of erros) erroCampo(campo, id, msg);
      const primeiroInvalido = document.querySelector('#form-regra [aria-invalid="true"]');
      if (primeiroInvalido) primeiroInvalido.focus();
      return;
    }
    const id = ($('regra-id') || {}).value || '';
    const botao = $('regra-salvar');
    salvando = true;
    if (botao) botao.disabled = true;
    try {
      if (id) await api('PUT', '/alertas/' + encodeURIComponent(id), corpo);
      else await api('POST', '/alertas', corpo);
      preencherFormulario(null);
      mostrarMensagemOk(id ? 'Regra atualizada.' : 'Regra criada.');
      await carregarRegras();
    } catch (e) {
      mostrarErroAPI(e, indiceCanais);
    } finally {
      salvando = false;
      if (botao) botao.disabled = false;
    }
  }

  function mostrarErroAPI(e, indiceCanais) {
    const geral = $('form-regra-erro');
    const soltos = [];
    const lista = e && e.problema && Array.isArray(e.problema.errors) ? e.problema.errors : [];
    for (const erro of lista) {
      const alvo = localizar(erro, indiceCanais || []);
      const msg = traduzir(erro && erro.message);
      if (!alvo || !erroCampo(alvo[0], alvo[1], msg)) soltos.push(((erro && erro.location) ? erro.location + ': ' : '') + msg);
    }
    if (geral) {
      geral.textContent = '';
      const resumo = lista.length && !soltos.length ? 'Corrija os campos destacados.' : (e && e.message) || '';
      geral.append(el('strong', { text: 'Não foi possível salvar a regra. ' }), resumo);
      if (soltos.length) geral.append(el('ul', null, soltos.map((s) => el('li', { text: s }))));
      geral.hidden = false;
    }
    const primeiroInvalido = document.querySelector('#form-regra [aria-invalid="true"]');
    if (primeiroInvalido) primeiroInvalido.focus();
  }

  async function excluirRegra(r) {
    if (!window.confirm('Excluir a regra “' + (r.nome || r.id) + '”? Esta ação não pode ser desfeita.')) return;
    try {
      await api('DELETE', '/alertas/' + encodeURIComponent(r.id));
      mostrarMensagem('regras-mensagem', '');
      if (String(($('regra-id') || {}).value) === String(r.id)) preencherFormulario(null);
      agendar('eventos', carregarEventos, 300);
    } catch (e) {
      mostrarMensagem('regras-mensagem', 'Não foi possível excluir a regra: ' + e.message);
    }
    await carregarRegras();
  }

  function ligarRegras() {
    const form = $('form-regra');
    if (form) form.addEventListener('submit', salvarRegra);
    const cancelar = $('regra-cancelar');
    if (cancelar) cancelar.addEventListener('click', () => preencherFormulario(null));
    const nova = $('regra-nova');
    if (nova) {
      nova.addEventListener('click', () => {
        preencherFormulario(null);
        const nome = $('regra-nome');
        if (nome) { nome.focus(); nome.scrollIntoView({ block: 'nearest' }); }
      });
    }
    const metrica = $('regra-metrica');
    if (metrica) metrica.addEventListener('input', atualizarAjudaMetrica);
    const corpo = $('regras-corpo');
    if (corpo) {
      corpo.addEventListener('click', (e) => {
        const b = e.target instanceof Element ? e.target.closest('button[data-acao]') : null;
        if (!b) return;
        const r = regras.find((x) => x && String(x.id) === b.dataset.regra);
        if (!r) return;
        if (b.dataset.acao === 'editar') {
          preencherFormulario(r);
          const nome = $('regra-nome');
          if (nome) { nome.focus(); nome.scrollIntoView({ block: 'nearest' }); }
        } else if (b.dataset.acao === 'excluir') {
          excluirRegra(r);
        }
      });
    }
  }

  // ---------------------------------------------------------------- history

  let graficoHistorico = null;
  let consultaHistorico = 0;
  const NOME_CAMADA = { bruto: 'amostras brutas', '1min': 'agregado por minuto (mín/méd/máx)', '1h': 'agregado por hora (mín/méd/máx)' };

  function paraLocal(d) {
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
  }

  function intervaloMudou() {
    const sel = $('historico-intervalo');
    const personalizado = !!sel && sel.value === 'personalizado';
    for (const id of ['historico-personalizado-de', 'historico-personalizado-ate']) {
      const c = $(id);
      if (c) c.hidden = !personalizado;
    }
    if (personalizado) {
      const de = $('historico-de');
      const ate = $('historico-ate');
      const agora = new Date();
      if (ate && !ate.value) ate.value = paraLocal(agora);
      if (de && !de.value) de.value = paraLocal(new Date(agora.getTime() - 24 * 3600 * 1000));
      return; // wait for "Consultar"
    }
    consultarHistorico();
  }

  async function consultarHistorico() {
    const sel = $('historico-metrica');
    const intervalo = $('historico-intervalo');
    const alvo = $('grafico-historico');
    if (!sel || !intervalo || !alvo) return;
    const metrica = sel.value || 'cpu.total';
    let de;
    let ate;
    if (intervalo.value === 'personalizado') {
      de = data(($('historico-de') || {}).value);
      ate = data(($('historico-ate') || {}).value);
      if (!de || !ate) { mostrarMensagem('historico-mensagem', 'Informe o início e o fim do período.'); return; }
      if (de >= ate) { mostrarMensagem('historico-mensagem', 'O início do período precisa ser antes do fim.'); return; }
    } else {
      ate = new Date();
      de = new Date(ate.getTime() - Number(intervalo.value) * 1000);
    }
    const pontos = Math.max(60, Math.min(2000, larguraDe(alvo)));
    const q = new URLSearchParams({ metrica, de: de.toISOString(), ate: ate.toISOString(), pontos: String(pontos) });
    const n = ++consultaHistorico;
    mostrarMensagem('historico-mensagem', '');
    const botao = $('historico-consultar');
    if (botao) botao.disabled = true;
    try {
      const r = await api('GET', '/historico?' + q.toString());
      if (n !== consultaHistorico) return;
      desenharHistorico(r || {}, metrica);
    } catch (e) {
      if (n !== consultaHistorico) return;
      mostrarMensagem('historico-mensagem', 'Não foi possível consultar o histórico: ' + e.message);
      if (!graficoHistorico) placeholder(alvo, 'Sem dados.');
    } finally {
      if (n === consultaHistorico && botao) botao.disabled = false;
    }
  }

  function desenharHistorico(r, metrica) {
    const alvo = $('grafico-historico');
    if (!alvo) return;
    const camada = $('historico-camada');
    if (camada) camada.textContent = r.camada || '—';
    const linhas = (Array.isArray(r.pontos) ? r.pontos : [])
      .map((p) => [p ? Date.parse(p.momento) / 1000 : NaN, numero(p && p.valor), numero(p && p.min), numero(p && p.max)])
      .filter((l) => Number.isFinite(l[0]))
      .sort((a, b) => a[0] - b[0]);
    const info = $('historico-info');
    if (info) {
      info.textContent = '· ' + (NOME_CAMADA[r.camada] ? NOME_CAMADA[r.camada] + ' · ' : '') +
        NUM0.format(linhas.length) + (linhas.length === 1 ? ' ponto' : ' pontos') +
        (r.de && r.ate ? ' · de ' + dataHora(r.de) + ' a ' + dataHora(r.ate) : '');
    }
    if (graficoHistorico) { graficoHistorico.destroy(); graficoHistorico = null; }
    alvo.dataset.pontos = String(linhas.length);
    if (!uPlotPronto()) { placeholder(alvo, 'A biblioteca de gráficos não carregou.'); return; }
    if (!linhas.length) { placeholder(alvo, 'Sem dados para esta métrica no período.'); return; }
    alvo.textContent = '';

    const nome = r.metrica || metrica;
    const unidade = catalogo.has(nome) ? catalogo.get(nome).unidade : (/_pct$|^cpu\.total$/.test(nome) ? '%' : /_bps$/.test(nome) ? 'B/s' : '');
    const formato = formatadorUnidade(unidade);
    const formatoEixo = unidade === '%' ? pctEixo : formato;
    const xs = linhas.map((l) => l[0]);
    const val = linhas.map((l) => l[1]);
    const mn = linhas.map((l) => l[2]);
    const mx = linhas.map((l) => l[3]);
    const temFaixa = linhas.some((l) => l[2] !== null && l[3] !== null && (l[2] !== l[1] || l[3] !== l[1]));
    const valorFmt = (u, v) => formato(v);
    const series = [{ label: nome + (temFaixa ? ' (média)' : ''), stroke: PALETA[0], width: 1.5, value: valorFmt }];
    const dados = [xs, val];
    let bands;
    if (temFaixa) {
      series.push({ label: 'mínimo', stroke: 'rgba(29, 95, 209, 0.45)', width: 1, dash: [4, 3], value: valorFmt });
      series.push({ label: 'máximo', stroke: 'rgba(29, 95, 209, 0.45)', width: 1, dash: [4, 3], value: valorFmt });
      dados.push(mn, mx);
      bands = [{ series: [3, 2], fill: 'rgba(29, 95, 209, 0.12)' }];
    }
    graficoHistorico = new window.uPlot(opcoes({
      largura: larguraDe(alvo), altura: ALTURA_HISTORICO, series, formatoY: formatoEixo,
      range: unidade === '%' ? rangePct : (/^(B|bytes?)\/s$/i.test(unidade || '') ? rangeDesdeZero : undefined), tamanhoY: unidade === '%' ? 52 : 76, bands, zoom: true,
    }), dados, alvo);
  }

  function ligarHistorico() {
    const alvo = $('grafico-historico');
    if (alvo) {
      placeholder(alvo, 'Carregando…');
      acompanharLargura(alvo, () => graficoHistorico, ALTURA_HISTORICO);
    }
    const form = $('form-historico');
    if (form) form.addEventListener('submit', (e) => { e.preventDefault(); consultarHistorico(); });
    const sel = $('historico-metrica');
    if (sel) sel.addEventListener('change', consultarHistorico);
    const intervalo = $('historico-intervalo');
    if (intervalo) intervalo.addEventListener('change', intervaloMudou);
  }

  // -------------------------------------------------------------- WebSocket

  let ws = null;
  let tentativas = 0;
  let timerReconexao = 0;
  let amostras = 0;

  function definirConexao(estado) {
    const c = $('conexao');
    if (!c) return;
    c.dataset.estado = estado;
    c.textContent = estado === 'conectado' ? 'conectado' : estado === 'reconectando' ? 'reconectando…'
      : estado === 'desconectado' ? 'desconectado' : 'conectando…';
  }

  function definirUltimaAmostra(momento, t) {
    const alvo = $('ultima-amostra');
    if (!alvo) return;
    const d = data(momento) || (finito(t) ? new Date(t * 1000) : null);
    if (!d) return;
    alvo.textContent = HORA.format(d);
    alvo.setAttribute('datetime', d.toISOString());
    alvo.title = DATA_HORA.format(d);
  }

  function tratarMensagem(texto) {
    let m;
    try { m = JSON.parse(texto); } catch (_) { return; }
    if (!m || typeof m !== 'object') return;
    switch (m.tipo) {
      case 'snapshot':
        tentativas = 0;
        carregarSeries(m.series);
        atualizarValores(m.valores);
        definirAtivos(m.alertas_ativos);
        definirUltimaAmostra(m.momento, vivo.t.length ? vivo.t[vivo.t.length - 1] : null);
        redesenharGraficos();
        break;
      case 'amostra': {
        amostras++;
        const contador = $('atualizacoes');
        if (contador) contador.textContent = String(amostras);
        const t = finito(m.t) ? m.t : (data(m.momento) ? data(m.momento).getTime() / 1000 : null);
        anexarAmostra(t, m.valores);
        atualizarValores(m.valores);
        definirUltimaAmostra(m.momento, t);
        redesenharGraficos();
        break;
      }
      case 'alerta':
        receberAlerta(m.evento);
        break;
      default:
        break;
    }
  }

  function conectar() {
    clearTimeout(timerReconexao);
    timerReconexao = 0;
    if (ws) return;
    // Browsers cannot set headers on a WebSocket: the token goes in the query.
    const t = token();
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + API + '/ws' +
      (t ? '?token=' + encodeURIComponent(t) : '');
    let sock;
    try {
      sock = new WebSocket(url);
    } catch (_) {
      agendarReconexao();
      return;
    }
    ws = sock;
    sock.addEventListener('open', () => { if (ws === sock) definirConexao('conectado'); });
    sock.addEventListener('message', (e) => { if (ws === sock && typeof e.data === 'string') tratarMensagem(e.data); });
    let aberto = false;
    sock.addEventListener('open', () => { aberto = true; });
    sock.addEventListener('close', () => {
      if (ws !== sock) return;
      ws = null;
      if (!sessaoAtiva) return; // logged out
      definirConexao('reconectando');
      // Refused before opening: maybe the token expired; a request renews it (or asks to log in).
      if (!aberto) api('GET', '/metricas/nomes').catch(() => {});
      agendarReconexao();
    });
  }

  function agendarReconexao() {
    if (timerReconexao) return;
    const base = Math.min(15000, 1000 * Math.pow(2, Math.min(tentativas, 4)));
    tentativas++;
    timerReconexao = setTimeout(conectar, Math.round(base * (0.75 + Math.random() * 0.5)));
  }

  window.addEventListener('online', () => { if (!ws) conectar(); });

  // ------------------------------------------------------------- plumbing

  const timers = {};
  function agendar(chave, fn, atraso) {
    if (timers[chave]) return;
    timers[chave] = setTimeout(() => { timers[chave] = 0; fn(); }, atraso);
  }

  // ---------------------------------------------------------------- login

  let sessaoAtiva = false;
  let painelIniciado = false;

  function mostrarLogin(mensagem) {
    sessaoAtiva = false;
    if (ws) { const s = ws; ws = null; s.close(); }
    const login = $('login');
    const conteudo = $('conteudo');
    if (conteudo) conteudo.hidden = true;
    if (login) login.hidden = false;
    const sair = $('sair');
    if (sair) sair.hidden = true;
    $('usuario').textContent = '—';
    definirConexao('desconectado');
    const erro = $('login-erro');
    if (erro) erro.textContent = mensagem || '';
    const email = $('login-email');
    if (email) email.focus();
  }

  async function entrar(evento) {
    evento.preventDefault();
    const email = $('login-email').value.trim();
    const senha = $('login-senha').value;
    const erro = $('login-erro');
    if (!email || !senha) { erro.textContent = 'Informe e-mail e senha.'; return; }
    const botao = $('login-entrar');
    botao.disabled = true;
    erro.textContent = '';
    try {
      const { resp, dados } = await postarJSON('/auth/login', { email, senha });
      if (!resp.ok) {
        if (resp.status === 429) {
          const s = resp.headers.get('Retry-After');
          erro.textContent = 'Muitas tentativas. Tente de novo em ' + (s || 'alguns') + ' s.';
        } else if (resp.status === 401) {
          erro.textContent = 'E-mail ou senha incorretos.';
        } else {
          erro.textContent = descreverErro(resp.status, dados);
        }
        return;
      }
      guardarSessao(dados);
      $('login-senha').value = '';
      await abrirSessao();
    } catch (_) {
      erro.textContent = descreverErro(0, null);
    } finally {
      botao.disabled = false;
    }
  }

  async function sair() {
    const rt = lerSessao('painel_refresh');
    if (rt) {
      try {
        const r = await fetch('/auth/logout', {
          method: 'POST', cache: 'no-store',
          headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token() },
          body: JSON.stringify({ refresh_token: rt }),
        });
        await r.text();
      } catch (_) { /* the session is dropped here anyway */ }
    }
    limparSessao();
    mostrarLogin('Você saiu.');
  }

  // abrirSessao checks that the API answers (a service without auth answers without a token),
  // shows who is logged in, and starts the dashboard.
  async function abrirSessao() {
    try {
      await api('GET', '/metricas/nomes');
    } catch (e) {
      if (e && e.status === 401) return; // the login form is showing
      // other errors: the dashboard shows them itself
    }
    sessaoAtiva = true;
    $('login').hidden = true;
    $('conteudo').hidden = false;
    if (token()) {
      try {
        const eu = await apiEm('GET', '/auth/me', undefined, false);
        $('usuario').textContent = (eu && (eu.nome || eu.email)) || '—';
        $('sair').hidden = false;
      } catch (_) { /* shown as — */ }
    }
    if (!painelIniciado) {
      painelIniciado = true;
      iniciarPainel();
    } else {
      conectar();
      carregarNomes();
      carregarRegras();
      carregarEventos();
    }
  }

  function iniciar() {
    const form = $('form-login');
    if (form) form.addEventListener('submit', entrar);
    const botaoSair = $('sair');
    if (botaoSair) botaoSair.addEventListener('click', sair);
    abrirSessao();
  }

  function iniciarPainel() {
    graficos = DEFINICOES.map((d) => new GraficoVivo(d));
    ligarRegras();
    ligarHistorico();
    const atualizar = $('eventos-atualizar');
    if (atualizar) atualizar.addEventListener('click', carregarEventos);
    desenharAtivos();
    conectar();
    carregarNomes();
    carregarRegras();
    carregarEventos();
    consultarHistorico();
    // Keep "há N min" in the alert list fresh.
    setInterval(desenharAtivos, 30000);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', iniciar);
  else iniciar();
})();
