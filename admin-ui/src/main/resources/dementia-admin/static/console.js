/*
 * Dementia Cloud console: keeps the open page current without reloading it, and draws the 15-minute charts as inline
 * SVG. Loaded from the jar (the Content-Security-Policy allows no inline script). It draws no markup of its own: every
 * few seconds it asks the server for the same page with ?live, which answers with the page's data-live parts rendered
 * from the same template, and swaps them in. What a pool's status is, and why, is the server's to say. The script
 * only reads; every action is a plain HTML form.
 */
(function () {
    'use strict';

    var WINDOW_MS = 15 * 60 * 1000;
    var SVG_NS = 'http://www.w3.org/2000/svg';
    var body = document.body;
    var every = parseInt(body.getAttribute('data-refresh') || '0', 10);

    // ------------------------------------------------------------------ fetching

    function toLogin() {
        window.location.href = '/admin/login?next=' + encodeURIComponent(window.location.pathname + window.location.search);
    }

    /* A GET with the session cookie; a signed-out session is redirected to the login page (not followed here). */
    function get(url, accept) {
        return fetch(url, {
            credentials: 'same-origin',
            cache: 'no-store',
            redirect: 'manual',
            headers: {'Accept': accept, 'X-Requested-With': 'dementia-console'}
        }).then(function (r) {
            if (r.type === 'opaqueredirect' || r.status === 401) {
                toLogin();
                throw new Error('signed out');
            }
            return r;
        });
    }

    // ------------------------------------------------------------------ history and charts

    var poolSamples = {};      // schema -> [[at, active, waiting, max], ...]
    var physicalSamples = [];  // [[at, active, waiting, max, total], ...]
    var historySince = 0;
    var clockSkew = 0;         // server time - browser time, from the last history response

    function serverNow() {
        return Date.now() + clockSkew;
    }

    function keep(rows, fresh) {
        fresh.forEach(function (s) {
            rows.push(s);
            historySince = Math.max(historySince, s[0]);
        });
    }

    function dropOld(rows, oldest) {
        while (rows.length && rows[0][0] < oldest) {
            rows.shift();
        }
    }

    function loadHistory() {
        return get('/admin/api/history?since=' + historySince, 'application/json').then(function (r) {
            if (!r.ok) {
                throw new Error('history: HTTP ' + r.status);
            }
            return r.json();
        }).then(function (h) {
            clockSkew = h.at - Date.now();
            Object.keys(h.pools).forEach(function (schema) {
                keep(poolSamples[schema] || (poolSamples[schema] = []), h.pools[schema]);
            });
            keep(physicalSamples, h.physical);
            var oldest = h.at - WINDOW_MS;
            dropOld(physicalSamples, oldest);
            Object.keys(poolSamples).forEach(function (schema) {
                dropOld(poolSamples[schema], oldest);
                if (!poolSamples[schema].length) {
                    delete poolSamples[schema];
                }
            });
        });
    }

    function svg(tag, attrs) {
        var e = document.createElementNS(SVG_NS, tag);
        Object.keys(attrs).forEach(function (k) {
            e.setAttribute(k, attrs[k]);
        });
        return e;
    }

    /* The charts cover the last 15 minutes, or since the first sample when the server has run for less (at least 2). */
    function chartSpan() {
        var oldest = serverNow();
        Object.keys(poolSamples).forEach(function (schema) {
            oldest = Math.min(oldest, poolSamples[schema][0][0]);
        });
        if (physicalSamples.length) {
            oldest = Math.min(oldest, physicalSamples[0][0]);
        }
        return Math.min(WINDOW_MS, Math.max(2 * 60000, serverNow() - oldest + 3000));
    }

    function minutes(ms) {
        return ms >= 120000 ? Math.round(ms / 60000) + ' min' : Math.round(ms / 1000) + ' s';
    }

    /* samples: [at, active, waiting, max] or [at, active, waiting, max, total]; axes: the large chart with labels */
    function drawChart(node, samples, axes) {
        while (node.firstChild) {
            node.removeChild(node.firstChild);
        }
        if (axes && node.clientWidth > 0) {
            // draw in the chart's own pixels, so it fills its width and the labels keep their size
            node.setAttribute('viewBox', '0 0 ' + node.clientWidth + ' ' + (node.clientHeight || 180));
        }
        var box = node.viewBox.baseVal;
        var W = box.width, H = box.height;
        var padL = axes ? 36 : 1, padR = axes ? 12 : 1, padT = axes ? 10 : 2, padB = axes ? 22 : 2;
        var span = chartSpan();
        var end = serverNow(), start = end - span;
        var withTotal = samples.length > 0 && samples[0].length > 4;
        var top = 1;
        var anyWaiting = false;
        samples.forEach(function (s) {
            top = Math.max(top, s[1], s[2], s[3], withTotal ? s[4] : 0);
            anyWaiting = anyWaiting || s[2] > 0;
        });
        top = axes ? Math.max(2, Math.ceil(top * 1.15)) : top * 1.1;

        function x(t) {
            return padL + Math.max(0, (t - start)) / span * (W - padL - padR);
        }

        function y(v) {
            return H - padB - v / top * (H - padT - padB);
        }

        function label(px, py, anchor, text) {
            var t = svg('text', {x: px, y: py, 'text-anchor': anchor});
            t.textContent = text;
            node.appendChild(t);
        }

        if (axes) {
            [0, Math.round(top / 2), top].forEach(function (v) {
                node.appendChild(svg('line', {'class': 'grid', x1: padL, x2: W - padR, y1: y(v), y2: y(v)}));
                label(padL - 6, y(v) + 4, 'end', String(v));
            });
            [[1, minutes(span) + ' ago', 'start'], [2 / 3, minutes(span * 2 / 3), 'middle'], [1 / 3, minutes(span / 3), 'middle'],
                [0, 'now', 'end']].forEach(function (m) {
                label(x(end - m[0] * span), H - 6, m[2], m[1]);
            });
        }
        if (!samples.length) {
            if (axes) {
                label(W / 2, H / 2, 'middle', 'no samples yet');
            }
            return;
        }

        function line(column) {
            return samples.map(function (s, i) {
                return (i ? 'L' : 'M') + x(s[0]).toFixed(1) + ' ' + y(s[column]).toFixed(1);
            }).join(' ');
        }

        var first = samples[0], last = samples[samples.length - 1];
        node.appendChild(svg('path', {'class': 'line-max', d: line(3)}));
        if (withTotal) {
            node.appendChild(svg('path', {'class': 'line-total', d: line(4)}));
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

    function drawCharts() {
        document.querySelectorAll('svg[data-history]').forEach(function (node) {
            var samples = node.getAttribute('data-history') === 'physical'
                ? physicalSamples : (poolSamples[node.getAttribute('data-schema')] || []);
            drawChart(node, samples, node.classList.contains('chart'));
        });
    }

    // ------------------------------------------------------------------ live parts

    /* Puts the server's fresh data-live parts in place of the page's. */
    function swap(html) {
        var fresh = new DOMParser().parseFromString(html, 'text/html');
        fresh.querySelectorAll('[data-live][id]').forEach(function (node) {
            var old = document.getElementById(node.id);
            if (!old || !old.hasAttribute('data-live')) {
                return;
            }
            if (old.querySelector('details.confirm[open]')) {
                return; // the operator is reading a confirmation: it stays as it was when opened
            }
            old.querySelectorAll('details[open][data-id]').forEach(function (d) {
                var same = node.querySelector('details[data-id="' + d.getAttribute('data-id') + '"]');
                if (same) {
                    same.open = true; // a stack the operator opened stays open
                }
            });
            old.replaceWith(document.adoptNode(node));
        });
    }

    function liveUrl() {
        var query = window.location.search;
        return window.location.pathname + (query ? query + '&' : '?') + 'live';
    }

    function stale(why) {
        body.classList.toggle('stale', !!why);
        var stamp = document.getElementById('refreshed');
        if (stamp && why) {
            stamp.textContent = 'refresh failed: ' + why;
        }
    }

    var latest = 0;

    function refresh() {
        var mine = ++latest;
        var jobs = [get(liveUrl(), 'text/html').then(function (r) {
            return r.text().then(function (text) {
                return {status: r.status, ok: r.ok, text: text};
            });
        })];
        if (document.querySelector('svg[data-history]')) {
            jobs.push(loadHistory());
        }
        return Promise.all(jobs).then(function (done) {
            if (mine !== latest) {
                return; // a newer refresh has started (a click on a column): its answer counts
            }
            var page = done[0];
            // a pool retired meanwhile: its page stays, marked as gone, until the operator leaves it
            body.classList.toggle('gone', page.status === 404);
            var gone = document.getElementById('gone');
            if (gone) {
                gone.classList.toggle('hidden', page.status !== 404);
            }
            if (page.ok) {
                swap(page.text);
            } else if (page.status !== 404) {
                throw new Error('HTTP ' + page.status);
            }
            drawCharts();
            stale(null);
        }).catch(function (e) {
            if (mine === latest) {
                stale(e.message);
            }
            throw e;
        });
    }

    /* Sorting is the server's: a column's link carries the order; following it in place keeps the page live. */
    document.addEventListener('click', function (e) {
        var link = e.target.closest ? e.target.closest('a[data-sort]') : null;
        if (!link || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) {
            return;
        }
        e.preventDefault();
        window.history.replaceState(null, '', link.getAttribute('href'));
        refresh().catch(function () {
            return null;
        });
    });

    if (document.querySelector('svg[data-history]')) {
        loadHistory().then(drawCharts).catch(function () {
            return null;
        });
    }
    if (every > 0) {
        (function loop() {
            window.setTimeout(function () {
                // a tab nobody looks at asks for nothing; it catches up when shown
                (document.hidden ? Promise.resolve() : refresh()).catch(function () {
                    return null;
                }).then(loop);
            }, every);
        }());
    }
}());
