/*
 * Dementia Cloud console: keeps the open page current without reloading it, and draws the 15-minute charts as inline
 * SVG. Loaded from the jar (the Content-Security-Policy allows no inline script); it only reads /admin/api with the
 * session cookie, every action is a plain HTML form.
 */
(function () {
    'use strict';

    var REFRESH_MS = 2500;
    var WINDOW_MS = 15 * 60 * 1000;
    var SVG_NS = 'http://www.w3.org/2000/svg';
    var LEVEL = {ok: 0, warn: 1, crit: 2};
    var page = document.body.getAttribute('data-page');

    // ------------------------------------------------------------------ helpers

    function api(path) {
        return fetch('/admin/api' + path, {
            credentials: 'same-origin',
            cache: 'no-store',
            headers: {'Accept': 'application/json', 'X-Requested-With': 'dementia-console'}
        }).then(function (r) {
            if (r.status === 401) {
                window.location.href = '/admin/login?next=' + encodeURIComponent(window.location.pathname + window.location.search);
                throw new Error('signed out');
            }
            return r.json().then(function (body) {
                if (!r.ok) {
                    var e = new Error(body.error || ('HTTP ' + r.status));
                    e.status = r.status;
                    throw e;
                }
                return body;
            });
        });
    }

    function el(tag, className, text) {
        var e = document.createElement(tag);
        if (className) {
            e.className = className;
        }
        if (text !== undefined && text !== null) {
            e.textContent = String(text);
        }
        return e;
    }

    function svg(tag, attrs) {
        var e = document.createElementNS(SVG_NS, tag);
        Object.keys(attrs || {}).forEach(function (k) {
            e.setAttribute(k, attrs[k]);
        });
        return e;
    }

    function setText(id, value) {
        var e = document.getElementById(id);
        if (e && e.textContent !== String(value)) {
            e.textContent = String(value);
        }
    }

    function clear(node) {
        while (node.firstChild) {
            node.removeChild(node.firstChild);
        }
    }

    function toggle(node, className, on) {
        if (node) {
            node.classList.toggle(className, !!on);
        }
    }

    function setLevel(node, level) {
        if (!node) {
            return;
        }
        ['ok', 'warn', 'crit'].forEach(function (l) {
            node.classList.toggle('level-' + l, l === level);
        });
    }

    function duration(ms) {
        if (ms < 1000) {
            return Math.max(0, Math.round(ms)) + ' ms';
        }
        var s = Math.floor(ms / 1000);
        if (s < 60) {
            return s + ' s';
        }
        if (s < 3600) {
            return Math.floor(s / 60) + ' min' + (s % 60 ? ' ' + (s % 60) + ' s' : '');
        }
        var m = Math.floor(s / 60);
        return Math.floor(m / 60) + ' h' + (m % 60 ? ' ' + (m % 60) + ' min' : '');
    }

    var clockSkew = 0; // server time - browser time, from the last history response

    function serverNow() {
        return Date.now() + clockSkew;
    }

    function utcTime(iso) {
        return new Date(iso).toISOString().substring(11, 19) + ' UTC';
    }

    function ago(iso) {
        if (!iso) {
            return 'never';
        }
        var ms = serverNow() - Date.parse(iso);
        return ms < 1000 ? 'just now' : duration(ms) + ' ago';
    }

    function badgeText(p) {
        if (p.level === 'crit') {
            return p.waiting > 0 && p.total >= p.max ? 'saturated' : 'waiting';
        }
        return p.level;
    }

    function poolUrl(schema) {
        return '/admin/pools/' + encodeURIComponent(schema);
    }

    function schedule(task, every) {
        function run() {
            task().catch(function () {
                return null;
            }).then(function () {
                window.setTimeout(run, every);
            });
        }
        window.setTimeout(run, every);
    }

    // ------------------------------------------------------------------ history and charts

    var history = {};
    var historySince = 0;

    function loadHistory() {
        return api('/history?since=' + historySince).then(function (h) {
            clockSkew = h.at - Date.now();
            Object.keys(h.pools).forEach(function (schema) {
                var rows = history[schema] || (history[schema] = []);
                h.pools[schema].forEach(function (s) {
                    rows.push(s);
                    historySince = Math.max(historySince, s[0]);
                });
            });
            var oldest = h.at - WINDOW_MS;
            Object.keys(history).forEach(function (schema) {
                var rows = history[schema];
                while (rows.length && rows[0][0] < oldest) {
                    rows.shift();
                }
                if (!rows.length) {
                    delete history[schema];
                }
            });
        });
    }

    /* The charts cover the last 15 minutes, or since the first sample when the server has run for less (at least 2). */
    function chartSpan() {
        var oldest = serverNow();
        Object.keys(history).forEach(function (schema) {
            if (history[schema].length) {
                oldest = Math.min(oldest, history[schema][0][0]);
            }
        });
        return Math.min(WINDOW_MS, Math.max(2 * 60000, serverNow() - oldest + 3000));
    }

    function minutes(ms) {
        return ms >= 120000 ? Math.round(ms / 60000) + ' min' : Math.round(ms / 1000) + ' s';
    }

    /* samples: [at, active, waiting, total, max]; axes: the large chart with labels */
    function drawChart(node, samples, axes) {
        clear(node);
        if (axes && node.clientWidth > 0) {
            // draw in the chart's own pixels, so it fills its width and the labels keep their size
            node.setAttribute('viewBox', '0 0 ' + node.clientWidth + ' ' + (node.clientHeight || 180));
        }
        var box = node.viewBox.baseVal;
        var W = box.width, H = box.height;
        var padL = axes ? 36 : 1, padR = axes ? 12 : 1, padT = axes ? 10 : 2, padB = axes ? 22 : 2;
        var span = chartSpan();
        var end = serverNow(), start = end - span;
        var top = 1;
        var anyWaiting = false;
        samples.forEach(function (s) {
            top = Math.max(top, s[1], s[2], s[4], axes ? s[3] : 0);
            anyWaiting = anyWaiting || s[2] > 0;
        });
        top = axes ? Math.max(2, Math.ceil(top * 1.15)) : top * 1.1;

        function x(t) {
            return padL + Math.max(0, (t - start)) / span * (W - padL - padR);
        }

        function y(v) {
            return H - padB - v / top * (H - padT - padB);
        }

        if (axes) {
            [0, Math.round(top / 2), top].forEach(function (v) {
                node.appendChild(svg('line', {'class': 'grid', x1: padL, x2: W - padR, y1: y(v), y2: y(v)}));
                var label = svg('text', {x: padL - 6, y: y(v) + 4, 'text-anchor': 'end'});
                label.textContent = String(v);
                node.appendChild(label);
            });
            [[1, minutes(span) + ' ago', 'start'], [2 / 3, minutes(span * 2 / 3), 'middle'], [1 / 3, minutes(span / 3), 'middle'],
                [0, 'now', 'end']].forEach(function (m) {
                var t = end - m[0] * span;
                var label = svg('text', {x: x(t), y: H - 6, 'text-anchor': m[2]});
                label.textContent = m[1];
                node.appendChild(label);
            });
        }
        if (!samples.length) {
            if (axes) {
                var none = svg('text', {x: W / 2, y: H / 2, 'text-anchor': 'middle'});
                none.textContent = 'no samples yet';
                node.appendChild(none);
            }
            return;
        }

        function line(column) {
            return samples.map(function (s, i) {
                return (i ? 'L' : 'M') + x(s[0]).toFixed(1) + ' ' + y(s[column]).toFixed(1);
            }).join(' ');
        }

        var first = samples[0], last = samples[samples.length - 1];
        node.appendChild(svg('path', {'class': 'line-max', d: line(4)}));
        if (axes) {
            node.appendChild(svg('path', {'class': 'line-total', d: line(3)}));
        }
        node.appendChild(svg('path', {
            'class': 'area-active',
            d: line(1) + ' L' + x(last[0]).toFixed(1) + ' ' + y(0) + ' L' + x(first[0]).toFixed(1) + ' ' + y(0) + ' Z'
        }));
        node.appendChild(svg('path', {'class': 'line-active', d: line(1)}));
        if (axes || anyWaiting) {
            node.appendChild(svg('path', {'class': 'line-waiting', d: line(2)}));
        }
    }

    // ------------------------------------------------------------------ budget (pools page)

    function renderBudget(b) {
        setText('budget-allocated', b.allocated);
        setText('budget-total', b.budget);
        setText('budget-free', b.free);
        setText('budget-why', b.why);
        setText('mini-allocated', b.allocated);
        setText('mini-total', b.budget);
        setLevel(document.getElementById('budget'), b.level);
        setLevel(document.getElementById('mini-budget'), b.level);
        var bar = document.getElementById('budget-bar');
        if (bar) {
            clear(bar);
            bar.appendChild(svg('rect', {'class': 'bar-bg', x: 0, y: 0, width: 1000, height: 28}));
            var x = 0;
            b.holders.forEach(function (h) {
                var w = b.budget ? 1000 * h.total / b.budget : 0;
                var r = svg('rect', {'class': 'seg seg-' + h.level, x: x, y: 0, width: w, height: 28});
                var title = svg('title', {});
                title.textContent = h.schema + ': ' + h.total + ' backends';
                r.appendChild(title);
                bar.appendChild(r);
                x += w;
            });
            bar.setAttribute('aria-label', b.allocated + ' of ' + b.budget + ' backends open');
        }
        var holders = document.getElementById('budget-holders');
        if (holders) {
            clear(holders);
            b.holders.forEach(function (h) {
                var li = el('li', 'level-' + h.level);
                li.appendChild(el('span', 'swatch'));
                var a = el('a', null, h.schema);
                a.href = poolUrl(h.schema);
                li.appendChild(a);
                li.appendChild(document.createTextNode(' '));
                li.appendChild(el('b', null, h.total));
                holders.appendChild(li);
            });
            var free = el('li', 'free');
            free.appendChild(el('span', 'swatch'));
            free.appendChild(document.createTextNode('free '));
            var fb = el('b', null, b.free);
            fb.id = 'budget-free';
            free.appendChild(fb);
            holders.appendChild(free);
        }
    }

    // ------------------------------------------------------------------ pools page

    var sortKey = 'urgency';
    var sortDir = -1;

    function compare(a, b) {
        if (sortKey === 'urgency') {
            return (LEVEL[b.level] - LEVEL[a.level]) || (b.waiting - a.waiting) || a.schema.localeCompare(b.schema);
        }
        var va = a[sortKey], vb = b[sortKey];
        if (sortKey === 'level') {
            va = LEVEL[va] * 1000 + a.waiting;
            vb = LEVEL[vb] * 1000 + b.waiting;
        }
        if (sortKey === 'lastUsedAt') {
            va = Date.parse(va);
            vb = Date.parse(vb);
        }
        var c = (typeof va === 'number') ? va - vb : String(va).localeCompare(String(vb));
        return (c * sortDir) || a.schema.localeCompare(b.schema);
    }

    function cell(row, className, value) {
        var td = el('td', className, value);
        row.appendChild(td);
        return td;
    }

    function poolRow(p) {
        var tr = el('tr', 'level-' + p.level);
        tr.setAttribute('data-schema', p.schema);
        var status = cell(tr, 'status');
        status.appendChild(el('span', 'badge badge-' + p.level, badgeText(p)));
        var name = cell(tr, 'left schema');
        var a = el('a', null, p.schema);
        a.href = poolUrl(p.schema);
        name.appendChild(a);
        name.appendChild(el('div', 'why', p.why.join('; ')));
        var state = cell(tr, '');
        state.appendChild(el('span', 'state state-' + p.state, p.state));
        cell(tr, 'num' + (p.active >= p.max ? ' hot' : ''), p.active);
        cell(tr, 'num', p.idle);
        cell(tr, 'num', p.total);
        cell(tr, 'num max', p.max);
        cell(tr, 'num', p.minIdle);
        cell(tr, 'num' + (p.waiting > 0 ? ' hot' : ''), p.waiting);
        cell(tr, 'num' + (p.recentTimeouts > 0 ? ' warm' : ''), p.acquireTimeouts);
        cell(tr, 'num' + (p.suspectedLeaks > 0 ? ' warm' : ''), p.suspectedLeaks);
        var used = cell(tr, 'ago');
        var time = el('time', null, ago(p.lastUsedAt));
        time.setAttribute('datetime', p.lastUsedAt);
        used.appendChild(time);
        var chart = cell(tr, 'chart-col');
        var spark = svg('svg', {'class': 'spark', viewBox: '0 0 120 30', preserveAspectRatio: 'none', 'data-schema': p.schema});
        chart.appendChild(spark);
        drawChart(spark, history[p.schema] || [], false);
        return tr;
    }

    var lastOverview = null;

    function renderPools(o) {
        lastOverview = o;
        renderBudget(o.budget);
        setText('pool-count', '(' + o.pools.length + ')');
        toggle(document.getElementById('no-pools'), 'hidden', o.pools.length > 0);
        var tbody = document.getElementById('pool-rows');
        var rows = document.createDocumentFragment();
        o.pools.slice().sort(compare).forEach(function (p) {
            rows.appendChild(poolRow(p));
        });
        clear(tbody);
        tbody.appendChild(rows);
        var stamp = document.getElementById('refreshed');
        if (stamp) {
            stamp.textContent = 'live · updated ' + utcTime(new Date(serverNow()).toISOString());
            stamp.classList.remove('stale');
        }
    }

    function startPools() {
        document.querySelectorAll('#pools th[data-sort]').forEach(function (th) {
            th.addEventListener('click', function () {
                var key = th.getAttribute('data-sort');
                if (sortKey === key) {
                    sortDir = -sortDir;
                } else {
                    sortKey = key;
                    sortDir = (key === 'schema' || key === 'state') ? 1 : -1;
                }
                document.querySelectorAll('#pools th[data-sort]').forEach(function (other) {
                    other.classList.remove('sorted-asc', 'sorted-desc');
                });
                th.classList.add(sortDir > 0 ? 'sorted-asc' : 'sorted-desc');
                if (lastOverview) {
                    renderPools(lastOverview);
                }
            });
        });

        function refresh() {
            return Promise.all([api('/pools'), loadHistory()]).then(function (r) {
                renderPools(r[0]);
            }, function (e) {
                setText('refreshed', 'refresh failed: ' + e.message);
                throw e;
            });
        }

        refresh().catch(function () {
            return null;
        });
        schedule(refresh, REFRESH_MS);
    }

    // ------------------------------------------------------------------ pool page

    function renderServer(server, pool) {
        var body = document.getElementById('server-body');
        if (!body) {
            return;
        }
        var key = JSON.stringify([server, pool.active, pool.idle, pool.total]);
        if (body.getAttribute('data-key') === key) {
            return;
        }
        body.setAttribute('data-key', key);
        clear(body);
        if (server.error) {
            body.appendChild(el('p', 'notice notice-refused', server.error));
            return;
        }
        var summary = el('p', 'server-summary');
        summary.id = 'server-summary';
        var states = Object.keys(server.byState).map(function (s) {
            return server.byState[s] + ' ' + s;
        });
        summary.textContent = 'PostgreSQL lists ' + server.listed + ' of the pool\'s ' + pool.total + ' backends: '
            + (states.length ? states.join(', ') : 'none') + '. '
            + (server.oldestTransactionMs !== null && server.oldestTransactionMs !== undefined
                ? 'Oldest open transaction: ' + duration(server.oldestTransactionMs) + ' (pid ' + server.oldestTransactionPid + '). '
                : 'No transaction open. ')
            + 'The pool says ' + pool.active + ' checked out, ' + pool.idle + ' idle.';
        body.appendChild(summary);
        if (server.disagreements.length) {
            var ul = el('ul', 'disagreements');
            ul.id = 'disagreements';
            server.disagreements.forEach(function (d) {
                ul.appendChild(el('li', null, d));
            });
            body.appendChild(ul);
        } else {
            body.appendChild(el('p', 'agree small', 'Pool and server agree.'));
        }
        if (server.backends.length) {
            var table = el('table', 'backends');
            var head = el('tr');
            [['num', 'pid'], ['left', 'state'], ['', 'transaction open'], ['', 'connected'], ['left', 'waits on'], ['left', 'statement']]
                .forEach(function (h) {
                    head.appendChild(el('th', h[0], h[1]));
                });
            var thead = el('thead');
            thead.appendChild(head);
            table.appendChild(thead);
            var tbody = el('tbody');
            server.backends.forEach(function (b) {
                var tr = el('tr', b.state !== 'idle' ? 'busy' : '');
                tr.appendChild(el('td', 'num', b.pid));
                tr.appendChild(el('td', 'left', b.state));
                tr.appendChild(el('td', '', b.transactionStart ? ago(b.transactionStart) : ''));
                tr.appendChild(el('td', '', ago(b.backendStart)));
                tr.appendChild(el('td', 'left', b.waitEvent || ''));
                var q = el('td', 'left');
                q.appendChild(el('code', null, b.query || ''));
                tr.appendChild(q);
                tbody.appendChild(tr);
            });
            table.appendChild(tbody);
            body.appendChild(table);
        }
    }

    function renderLeaks(leaks, thresholdMs) {
        var body = document.getElementById('leaks-body');
        if (!body) {
            return;
        }
        var key = JSON.stringify(leaks.map(function (l) {
            return [l.id, l.returned];
        }));
        if (body.getAttribute('data-key') === key) {
            return; // unchanged: keep the operator's open stacks open
        }
        var open = {};
        body.querySelectorAll('details[open]').forEach(function (d) {
            open[d.getAttribute('data-id')] = true;
        });
        body.setAttribute('data-key', key);
        clear(body);
        if (!leaks.length) {
            body.appendChild(el('p', 'muted', 'None: every connection came back within the threshold.'));
            return;
        }
        leaks.forEach(function (l) {
            var d = el('details', 'leak ' + (l.returned ? 'returned' : 'held'));
            d.setAttribute('data-id', String(l.id));
            if (open[String(l.id)]) {
                d.open = true;
            }
            var s = el('summary');
            s.appendChild(el('b', null, l.returned ? 'returned' : 'still held'));
            s.appendChild(document.createTextNode(' — checkout #' + l.id + ' by thread '));
            s.appendChild(el('code', null, l.thread));
            s.appendChild(document.createTextNode(', taken ' + utcTime(l.takenAt) + ', held ' + duration(l.heldMs)
                + (l.origin ? ', at ' : '')));
            if (l.origin) {
                s.appendChild(el('code', 'origin', l.origin));
            }
            d.appendChild(s);
            d.appendChild(el('pre', 'stack', l.stack));
            body.appendChild(d);
        });
    }

    function renderPool(d) {
        var p = d.pool;
        setText('n-active', p.active);
        setText('n-max', p.max);
        setText('n-idle', p.idle);
        setText('n-total', p.total);
        setText('n-minIdle', p.minIdle);
        setText('n-waiting', p.waiting);
        setText('n-timeouts', p.acquireTimeouts);
        setText('n-recentTimeouts', p.recentTimeouts);
        setText('n-leaks', p.suspectedLeaks);
        setText('n-lastUsed', ago(p.lastUsedAt));
        setText('mini-allocated', d.budget.allocated);
        setLevel(document.getElementById('mini-budget'), d.budget.level);
        toggle(document.getElementById('box-active'), 'hot', p.active >= p.max);
        toggle(document.getElementById('box-waiting'), 'hot', p.waiting > 0);
        toggle(document.getElementById('box-timeouts'), 'warm', p.recentTimeouts > 0);
        toggle(document.getElementById('box-leaks'), 'warm', p.suspectedLeaks > 0);
        setLevel(document.getElementById('pool-head'), p.level);
        var badge = document.getElementById('pool-level');
        if (badge) {
            badge.className = 'badge badge-' + p.level;
            badge.textContent = badgeText(p);
        }
        var state = document.getElementById('pool-state');
        if (state) {
            state.className = 'state state-' + p.state;
            state.textContent = p.state;
        }
        var why = document.getElementById('pool-why');
        if (why && why.getAttribute('data-key') !== p.why.join('|')) {
            why.setAttribute('data-key', p.why.join('|'));
            clear(why);
            p.why.forEach(function (w) {
                why.appendChild(el('li', null, w));
            });
        }
        toggle(document.getElementById('suspend-confirm'), 'hidden', p.state === 'SUSPENDED');
        toggle(document.getElementById('resume-form'), 'hidden', p.state !== 'SUSPENDED');
        renderServer(d.server, p);
        renderLeaks(d.leaks, d.leakThresholdMs);
    }

    function startPool() {
        var schema = document.body.getAttribute('data-schema');
        var chart = document.getElementById('pool-chart');

        function refresh() {
            return Promise.all([api('/pools/' + encodeURIComponent(schema)).then(function (d) {
                toggle(document.getElementById('gone'), 'hidden', true);
                return d;
            }, function (e) {
                if (e.status === 404) {
                    toggle(document.getElementById('gone'), 'hidden', false);
                    var state = document.getElementById('pool-state');
                    if (state) {
                        state.className = 'state state-RETIRED';
                        state.textContent = 'RETIRED';
                    }
                    return null;
                }
                throw e;
            }), loadHistory()]).then(function (r) {
                if (r[0]) {
                    renderPool(r[0]);
                }
                drawChart(chart, history[schema] || [], true);
            });
        }

        refresh().catch(function () {
            return null;
        });
        schedule(refresh, REFRESH_MS);
    }

    // ------------------------------------------------------------------ cleanup page

    function startCleanup() {
        var nextAt = null;

        function renderRuns(c) {
            nextAt = c.nextRun ? Date.parse(c.nextRun) : null;
            var tbody = document.getElementById('run-rows');
            var key = JSON.stringify(c.runs);
            if (!tbody || tbody.getAttribute('data-key') === key) {
                return;
            }
            tbody.setAttribute('data-key', key);
            clear(tbody);
            c.runs.forEach(function (r) {
                var tr = el('tr');
                tr.appendChild(el('td', 'left', utcTime(r.startedAt)));
                tr.appendChild(el('td', 'left', r.trigger));
                tr.appendChild(el('td', 'num', duration(r.idleMaxSeconds * 1000)));
                tr.appendChild(el('td', 'num', r.connectionsClosed));
                tr.appendChild(el('td', 'left', r.poolsRetired.length ? r.poolsRetired.join(', ') : '—'));
                tr.appendChild(el('td', 'num', r.durationMs + ' ms'));
                tbody.appendChild(tr);
            });
            toggle(document.getElementById('runs'), 'hidden', !c.runs.length);
            toggle(document.getElementById('no-runs'), 'hidden', c.runs.length > 0);
            var next = document.getElementById('c-next');
            if (next && c.nextRun) {
                next.textContent = utcTime(c.nextRun);
            }
        }

        var nextEl = document.getElementById('c-next');
        if (nextEl && nextEl.getAttribute('datetime')) {
            nextAt = Date.parse(nextEl.getAttribute('datetime'));
        }
        window.setInterval(function () {
            if (nextAt) {
                var left = nextAt - serverNow();
                setText('c-next-in', left > 0 ? 'in ' + duration(left) : 'running about now');
            }
        }, 1000);
        schedule(function () {
            return api('/cleanup').then(renderRuns);
        }, 5000);
    }

    if (page === 'pools') {
        startPools();
    } else if (page === 'pool') {
        startPool();
    } else if (page === 'cleanup') {
        startCleanup();
    }
}());
