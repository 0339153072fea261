// The orders page: lists GET /orders in the table, posts the form to /create_order as JSON,
// and deletes with /delete_order?id=N -- the original demo's client, without a CDN.
// The service listens on port 8080 of the host that served this page.
"use strict";

const API = `${location.protocol}//${location.hostname || "localhost"}:8080`;

const tbody = document.querySelector("#orders tbody");
const form = document.getElementById("create");
const statusLine = document.getElementById("status");

function say(text, isError) {
  statusLine.textContent = text;
  statusLine.className = isError ? "error" : "";
}

async function getOrders() {
  const resp = await fetch(`${API}/orders`);
  if (!resp.ok) throw new Error(`GET /orders: ${resp.status}`);
  return resp.json(); // not JSON (no table yet): throws as well
}

// As the original: when the orders cannot be read (a fresh database has no table), /init makes
// the table and the list is read again.
async function loadOrders() {
  let orders;
  try {
    orders = await getOrders();
  } catch (e) {
    try {
      await fetch(`${API}/init`);
      orders = await getOrders();
    } catch (e2) {
      say(`The order service does not answer at ${API}: ${e2.message}`, true);
      return;
    }
  }
  render(orders);
  say(`${orders.length} order${orders.length === 1 ? "" : "s"}`);
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function money(v) {
  return Number(v).toFixed(2);
}

function render(orders) {
  tbody.replaceChildren();
  for (const o of orders) {
    const tr = document.createElement("tr");
    tr.dataset.orderId = o.order_id;
    tr.append(
      cell(o.order_id, "num"),
      cell(o.product_id, "num"),
      cell(o.quantity, "num"),
      cell(money(o.amount), "num"),
      cell(money(o.shipping), "num"),
      cell(money(o.tax), "num"),
      cell(o.shipping_address),
    );
    const td = document.createElement("td");
    const del = document.createElement("button");
    del.type = "button";
    del.className = "delete";
    del.textContent = "Delete";
    del.addEventListener("click", () => deleteOrder(o.order_id));
    td.append(del);
    tr.append(td);
    tbody.append(tr);
  }
}

async function deleteOrder(id) {
  try {
    const resp = await fetch(`${API}/delete_order?id=${encodeURIComponent(id)}`);
    if (!resp.ok) throw new Error(`${resp.status}`);
  } catch (e) {
    say(`Deleting order ${id} failed: ${e.message}`, true);
    return;
  }
  await loadOrders();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const f = form.elements;
  const order = {
    order_id: parseInt(f.order_id.value, 10),
    product_id: parseInt(f.product_id.value, 10),
    quantity: parseInt(f.quantity.value, 10),
    amount: parseFloat(f.amount.value),
    shipping: parseFloat(f.shipping.value),
    tax: parseFloat(f.tax.value),
    shipping_address: f.shipping_address.value,
  };
  try {
    const resp = await fetch(`${API}/create_order`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(order),
    });
    if (!resp.ok) throw new Error(`${resp.status}`);
  } catch (e) {
    say(`Creating order ${order.order_id} failed: ${e.message}`, true);
    return;
  }
  form.reset();
  await loadOrders();
});

loadOrders();
