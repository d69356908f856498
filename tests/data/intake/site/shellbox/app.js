document.getElementById("root").textContent = "Shellbox";
