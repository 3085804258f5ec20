'use strict';

// plotly.js' core (which registers scatter, the layout components such as updatemenus,
// and the modebar) plus the other trace types hyperband/report/html/figures.py emits.
// A figure of any other type would draw nothing: tests/test_plotly_bundle.py checks the list.
var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/scatter'),
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/parcoords'),
]);

module.exports = Plotly;
