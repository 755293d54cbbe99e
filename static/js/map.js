// Maps (app/maps, issue 16). Every map is asked for: its "Show the map" button loads Leaflet and
// leaflet.markercluster from /static/vendor/ (copied from npm by scripts/setup) only then, so a
// page stays within its script budget and the tile server learns of a visit only when the visitor
// wants a map. Three kinds, by data-map:
//   "ideas": a call's ideas (or every call's, /map), one marker per item of the list below
//            ([data-map-marker] with data-lat, data-lon, data-title), clustered; a marker opens
//            the idea's card;
//   "point": one idea's place;
//   "pick":  the idea form: a click, or the arrow keys and "Use the centre of the map", fills the
//            latitude and longitude fields, which stay the way without a map.
// The map is focusable (arrow keys pan, + and - zoom) and each marker is reached with Tab and
// opened with Enter, as Leaflet does. With data-outlines-url, the districts' outlines are drawn
// as lines only (see outlines()). Tiles come from data-tiles (the settings); when none load
// (no tile server reachable), the markers and the list still work. Without JavaScript the
// buttons stay hidden and the list and fields are the page.
(function () {
  "use strict";

  var LIEGE = [50.6326, 5.5797];
  var loading = null;

  function load(tag, attrs) {
    return new Promise(function (resolve, reject) {
      var el = document.createElement(tag);
      Object.keys(attrs).forEach(function (k) { el[k] = attrs[k]; });
      el.onload = resolve;
      el.onerror = reject;
      document.head.appendChild(el);
    });
  }

  function library(box) {
    if (!loading) {
      loading = Promise.all([
        load("link", { rel: "stylesheet", href: box.getAttribute("data-leaflet-css") }),
        load("link", { rel: "stylesheet", href: box.getAttribute("data-cluster-css") })
      ]).then(function () {
        return load("script", { src: box.getAttribute("data-leaflet-js") });
      }).then(function () {
        return box.getAttribute("data-map") === "ideas"
          ? load("script", { src: box.getAttribute("data-cluster-js") }) : null;
      });
    }
    return loading;
  }

  function number(value) {
    var n = parseFloat(String(value || "").replace(",", "."));
    return isFinite(n) ? n : null;
  }

  // A marker drawn by CSS (no <img>), named for screen readers.
  function pin(L, label) {
    var Icon = L.DivIcon.extend({
      createIcon: function (old) {
        var div = L.DivIcon.prototype.createIcon.call(this, old);
        div.setAttribute("aria-label", label);
        div.setAttribute("role", "img");  // Leaflet makes it a button when Tab reaches it
        return div;
      }
    });
    return new Icon({ className: "map-pin", iconSize: [28, 28], iconAnchor: [14, 28], popupAnchor: [0, -26], html: "" });
  }

  function tiles(L, map, box) {
    var url = box.getAttribute("data-tiles") || "";
    if (url.indexOf("https://") !== 0 && url.indexOf("http://") !== 0) {
      return;
    }
    // Tiles as the page's images must be: sized, lazy, without text alternative (decoration).
    var Tiles = L.TileLayer.extend({
      createTile: function (coords, done) {
        var img = L.TileLayer.prototype.createTile.call(this, coords, done);
        img.setAttribute("width", "256");
        img.setAttribute("height", "256");
        img.setAttribute("loading", "lazy");
        img.setAttribute("alt", "");
        return img;
      }
    });
    new Tiles(url, { maxZoom: 19, crossOrigin: false }).addTo(map);
  }

  function create(L, box) {
    var map = L.map(box, { attributionControl: false, keyboard: true, scrollWheelZoom: false, zoomControl: false });
    // The zoom buttons named in the page's language (Leaflet's own names are English).
    L.control.zoom({
      zoomInTitle: box.getAttribute("data-zoom-in") || "+",
      zoomOutTitle: box.getAttribute("data-zoom-out") || "-"
    }).addTo(map);
    map.getContainer().setAttribute("aria-label", box.getAttribute("data-map-label") || "");
    map.getContainer().setAttribute("role", "application");
    tiles(L, map, box);
    return map;
  }

  // The districts' outlines (data-outlines-url: the platform's /api/districts.geojson), drawn
  // under the markers as lines only: not interactive (no Tab stop, clicks go through to the map
  // and the picker), hidden from screen readers, since the list and the form's district field
  // say the same in words.
  function outlines(L, map, box) {
    var url = box.getAttribute("data-outlines-url");
    if (!url || !window.fetch) {
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !data.features || !data.features.length) {
          return;
        }
        var layer = L.geoJSON(data, {
          interactive: false,
          style: function () {
            return { className: "map-outline", color: "#1d4e89", weight: 2, opacity: 0.9, fill: false };
          }
        }).addTo(map);
        layer.bringToBack();
        var drawing = map.getPane("overlayPane").querySelector("svg");
        if (drawing) {
          drawing.setAttribute("aria-hidden", "true");
          drawing.setAttribute("focusable", "false");
        }
        box.setAttribute("data-outlines-drawn", String(data.features.length));
      }, function () {});
  }

  function ideasMap(L, box) {
    var map = create(L, box);
    outlines(L, map, box);
    var clusterLabel = box.getAttribute("data-cluster-label") || "{count}";
    // A cluster is a marker too (Tab reaches it, Enter zooms in on it): it says how many ideas.
    var Cluster = L.DivIcon.extend({
      createIcon: function (old) {
        var div = L.DivIcon.prototype.createIcon.call(this, old);
        div.setAttribute("aria-label", clusterLabel.replace("{count}", this.options.html));
        return div;
      }
    });
    var group = L.markerClusterGroup ? L.markerClusterGroup({
      showCoverageOnHover: false,
      iconCreateFunction: function (cluster) {
        return new Cluster({ html: String(cluster.getChildCount()), className: "marker-cluster", iconSize: [44, 44] });
      }
    }) : L.featureGroup();
    var items = document.querySelectorAll("[data-map-marker]");
    Array.prototype.forEach.call(items, function (item) {
      var lat = number(item.getAttribute("data-lat"));
      var lon = number(item.getAttribute("data-lon"));
      if (lat === null || lon === null) {
        return;
      }
      var title = item.getAttribute("data-title") || "";
      var marker = L.marker([lat, lon], { icon: pin(L, title), title: title, keyboard: true });
      marker.bindPopup(function () {
        var card = document.createElement("div");
        card.className = "map-popup";
        Array.prototype.forEach.call(item.childNodes, function (node) {
          card.appendChild(node.cloneNode(true));
        });
        return card;
      }, { autoPanPaddingTopLeft: [64, 16], maxWidth: 280 });
      marker.on("popupopen", function () {
        var link = marker.getPopup().getElement().querySelector("a");
        if (link) {
          link.focus();
        }
      });
      group.addLayer(marker);
    });
    group.addTo(map);
    if (group.getLayers().length) {
      map.fitBounds(group.getBounds(), { padding: [24, 24], maxZoom: 16 });
    } else {
      map.setView(LIEGE, 13);
    }
    return map;
  }

  function pointMap(L, box) {
    var map = create(L, box);
    var lat = number(box.getAttribute("data-lat"));
    var lon = number(box.getAttribute("data-lon"));
    if (lat !== null && lon !== null) {
      L.marker([lat, lon], { icon: pin(L, box.getAttribute("data-title") || ""), keyboard: false }).addTo(map);
      map.setView([lat, lon], 16);
    }
    return map;
  }

  // The district whose outline holds the point, chosen in the form's district list when it is
  // still "the whole city" or the district suggested before: the suggestion follows the point
  // until the person chooses a district themselves (the server suggests the same when the form
  // is sent without one, unless "the whole city" was chosen on purpose: the hidden field
  // district_whole_city says so).
  var suggested = null;
  var chosen = false;
  var districtField = document.getElementById("f-district_id");
  var wholeCity = document.getElementById("f-district_whole_city");
  if (districtField) {
    chosen = !!(wholeCity && wholeCity.value === "1");
    districtField.addEventListener("change", function () {
      chosen = true;
      if (wholeCity) {
        wholeCity.value = districtField.value ? "" : "1";
      }
      var note = document.getElementById("location-district-note");
      if (districtField.value !== suggested && note) {
        note.textContent = "";  // the note about the suggestion no longer holds
      }
    });
  }
  function suggest(box, lat, lon) {
    var url = box.getAttribute("data-district-url");
    var select = districtField;
    var free = function () { return !chosen && (!select.value || select.value === suggested); };
    if (!url || !select || !free() || !window.fetch) {
      return;
    }
    fetch(url + "?latitude=" + encodeURIComponent(lat) + "&longitude=" + encodeURIComponent(lon),
          { credentials: "same-origin", headers: { Accept: "application/json" } })
      // Refused (too many lookups from this address: 429) or failed: the district stays as it is.
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (found) {
        if (!found || !free()) {
          return;
        }
        var note = document.getElementById("location-district-note");
        var option = found.id !== null && select.querySelector("option[value='" + Number(found.id) + "']");
        if (option) {
          select.value = option.value;
          suggested = select.value;
          if (note) {
            // The district's name as the list shows it, in the page's language.
            note.textContent = (note.getAttribute("data-template") || "").replace("{name}", option.textContent);
          }
        } else if (suggested !== null) {
          select.value = "";
          suggested = null;
          if (note) {
            note.textContent = "";
          }
        }
      }, function () {});
  }

  // A place chosen from the list suggests its district too, with or without the map shown
  // (the places' points are data-place-points on the picker's box); so do coordinates typed
  // while the map is not shown (once it is, the picker follows them: pickMap).
  (function () {
    var box = document.getElementById("location-map");
    if (!box) {
      return;
    }
    var places = document.getElementById("f-place_id");
    var points = {};
    try {
      points = JSON.parse(box.getAttribute("data-place-points") || "{}");
    } catch (e) {
      points = {};
    }
    if (places) {
      places.addEventListener("change", function () {
        var point = points[places.value];
        if (point) {
          suggest(box, point[0], point[1]);
        }
      });
    }
    var latField = document.getElementById("f-latitude");
    var lonField = document.getElementById("f-longitude");
    function typed() {
      var la = number(latField.value);
      var lo = number(lonField.value);
      if (box.hidden && la !== null && lo !== null && Math.abs(la) <= 90 && Math.abs(lo) <= 180) {
        suggest(box, la, lo);
      }
    }
    if (latField && lonField) {
      latField.addEventListener("change", typed);
      lonField.addEventListener("change", typed);
    }
  })();

  function pickMap(L, box) {
    var map = create(L, box);
    outlines(L, map, box);
    var form = box.closest("form");
    var latField = form && form.querySelector("[name=latitude]");
    var lonField = form && form.querySelector("[name=longitude]");
    var lat = number(latField && latField.value);
    var lon = number(lonField && lonField.value);
    var marker = null;
    function put(latlng) {
      var round = function (v) { return Math.round(v * 1e6) / 1e6; };
      if (latField && lonField) {
        latField.value = String(round(latlng.lat));
        lonField.value = String(round(latlng.lng));
      }
      suggest(box, latField && latField.value, lonField && lonField.value);
      if (marker) {
        marker.setLatLng(latlng);
      } else {
        marker = L.marker(latlng, { icon: pin(L, box.getAttribute("data-map-label") || ""), keyboard: false }).addTo(map);
      }
    }
    if (lat !== null && lon !== null) {
      map.setView([lat, lon], 16);
      put(L.latLng(lat, lon));
    } else {
      map.setView(LIEGE, 13);
    }
    // A point picked on the map is the place: a place chosen in the list before no longer is
    // (the server takes the list's place first).
    var placeField = form && form.querySelector("[name=place_id]");
    // Said to screen readers too: the point chosen, in the fields' words.
    var pointNote = document.getElementById("location-point-note");
    function pick(latlng) {
      if (placeField) {
        placeField.value = "";
      }
      put(latlng);
      if (pointNote && latField && lonField) {
        pointNote.textContent = (pointNote.getAttribute("data-template") || "")
          .replace("{lat}", latField.value).replace("{lon}", lonField.value);
      }
    }
    map.on("click", function (event) { pick(event.latlng); });
    // Coordinates typed in the fields move the marker and the map there (when they are a point).
    function typed() {
      var la = number(latField.value);
      var lo = number(lonField.value);
      if (la === null || lo === null || Math.abs(la) > 90 || Math.abs(lo) > 180) {
        return;
      }
      if (placeField) {
        placeField.value = "";
      }
      put(L.latLng(la, lo));
      map.setView([la, lo], Math.max(map.getZoom(), 15));
    }
    if (latField && lonField) {
      latField.addEventListener("change", typed);
      lonField.addEventListener("change", typed);
    }
    var centre = document.querySelector("[data-map-centre='" + box.id + "']");
    if (centre) {
      centre.hidden = false;
      centre.addEventListener("click", function () { pick(map.getCenter()); });
    }
    return map;
  }

  var KINDS = { ideas: ideasMap, point: pointMap, pick: pickMap };

  function show(button, box) {
    button.disabled = true;
    library(box).then(function () {
      box.hidden = false;
      var map = KINDS[box.getAttribute("data-map")](window.L, box);
      var section = box.parentNode;
      var credits = section.querySelectorAll("[data-map-attribution]");
      if (!credits.length && section.parentNode) {
        credits = section.parentNode.querySelectorAll("[data-map-attribution]");
      }
      Array.prototype.forEach.call(credits, function (credit) { credit.hidden = false; });
      button.hidden = true;
      map.invalidateSize();
      box.focus();
    }, function () {
      button.disabled = false;
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-map-show]"), function (button) {
    var box = document.getElementById(button.getAttribute("data-map-show"));
    if (!box || !KINDS[box.getAttribute("data-map")] || !window.Promise) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () { show(button, box); });
  });
})();
