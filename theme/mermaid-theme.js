// Renders the book's mermaid diagrams and re-renders them whenever the mdBook
// theme changes, so that they always match the page: mermaid's "default"
// theme on mdBook's light and rust themes, its "dark" theme on coal, navy and
// ayu.
//
// It replaces the mermaid-init.js that `mdbook-mermaid install` writes. That
// file picks the mermaid theme once, at load, and reloads the page when one of
// the five theme buttons switches between light and dark. It misses the
// "Auto" entry of the theme menu and a change of the system colour scheme
// while on "Auto" (mdBook follows both without a click on a theme button),
// which leave dark diagrams on a light page or the other way round.
//
// Here a MutationObserver watches the theme class on <html> (where mdBook 0.5
// puts the current theme, whatever changed it) and re-renders every diagram
// from its source, which is kept aside because mermaid replaces the content
// of each `<pre class="mermaid">` with the SVG. No reload.
//
// Load it after mermaid.min.js, instead of mermaid-init.js:
//   additional-js = ["mermaid.min.js", "theme/mermaid-theme.js"]
(() => {
    'use strict';

    if (typeof mermaid === 'undefined') {
        console.error('mermaid-theme.js: mermaid is not loaded (list mermaid.min.js before it in additional-js)');
        return;
    }

    // mermaid.min.js renders every .mermaid block on the load event unless
    // told not to; it must not, or it would race with the renders below.
    mermaid.initialize({ startOnLoad: false });

    const DARK_THEMES = ['coal', 'navy', 'ayu'];
    const html = document.documentElement;
    const blocks = Array.from(document.querySelectorAll('pre.mermaid'));
    if (blocks.length === 0) {
        return;
    }

    // The diagram sources, as written in the book (textContent undoes the
    // HTML escaping that mdbook-mermaid applies).
    const sources = blocks.map((pre) => dedent(pre.textContent));

    function dedent(text) {
        const lines = text.replace(/\s+$/, '').split('\n');
        while (lines.length && lines[0].trim() === '') {
            lines.shift();
        }
        const indents = lines.filter((l) => l.trim() !== '').map((l) => l.match(/^[ \t]*/)[0].length);
        const cut = indents.length ? Math.min(...indents) : 0;
        return lines.map((l) => l.slice(cut)).join('\n');
    }

    function wantedTheme() {
        return DARK_THEMES.some((t) => html.classList.contains(t)) ? 'dark' : 'default';
    }

    let renderedTheme = null; // the mermaid theme the diagrams are drawn in
    let running = null; // the current rendering pass
    let again = false; // the theme changed during a pass
    let serial = 0; // unique ids for mermaid.render

    async function renderAll(theme) {
        mermaid.initialize({ startOnLoad: false, theme, suppressErrorRendering: true });
        for (let i = 0; i < blocks.length; i++) {
            const pre = blocks[i];
            try {
                // Render off-page first, then swap: no flash of the source text.
                const { svg, bindFunctions } = await mermaid.render(`mermaid-svg-${i}-${serial++}`, sources[i]);
                pre.innerHTML = svg;
                if (bindFunctions) {
                    bindFunctions(pre);
                }
                pre.setAttribute('data-processed', 'true');
                pre.dataset.mermaidTheme = theme;
            } catch (e) {
                console.error(`mermaid: diagram ${i + 1} on this page failed to render:`, e && e.message ? e.message : e);
            }
        }
    }

    function update() {
        if (running) {
            again = true;
            return running;
        }
        running = (async () => {
            do {
                again = false;
                const theme = wantedTheme();
                if (theme !== renderedTheme) {
                    renderedTheme = theme;
                    await renderAll(theme);
                }
            } while (again);
        })().finally(() => {
            running = null;
        });
        return running;
    }

    let started = false;
    let firstPass = null;
    function start() {
        started = true;
        firstPass = update();
    }

    new MutationObserver(() => {
        if (started && wantedTheme() !== renderedTheme) {
            update();
        }
    }).observe(html, { attributes: true, attributeFilter: ['class'] });

    // Like mermaid's startOnLoad: wait for the stylesheets and fonts so that
    // the labels are measured with the right font.
    if (document.readyState === 'complete') {
        start();
    } else {
        window.addEventListener('load', start, { once: true });
    }

    // print.html calls window.print() right after load: let it wait (up to
    // 10 s) until the diagrams are drawn.
    if (typeof window.print === 'function') {
        const nativePrint = window.print.bind(window);
        window.print = () => {
            const done = firstPass || new Promise((resolve) => window.addEventListener('load', () => resolve(firstPass), { once: true }));
            const limit = new Promise((resolve) => setTimeout(resolve, 10000));
            Promise.race([done, limit]).then(() => nativePrint(), () => nativePrint());
        };
    }
})();
