/*
 * The lectures' MathJax settings (ours, not MathJax's): typeset with the STIX web fonts that this
 * copy ships, never with the TeX fonts or image fonts that it does not. Loaded by the decks as
 * MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe,local/lectures (see lectures/README.md).
 */
MathJax.Hub.Config({
  "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null}
});
MathJax.Ajax.loadComplete("[MathJax]/config/local/lectures.js");
