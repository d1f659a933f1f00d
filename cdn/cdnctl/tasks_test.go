package cdnctl

import (
	"testing"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

func TestTasksQueuePerNode(t *testing.T) {
	q := NewTasks()
	q.Enqueue("a", cdnwire.Task{ID: "1", ItemID: 1})
	q.Enqueue("a", cdnwire.Task{ID: "2"})
	q.Enqueue("a", cdnwire.Task{ID: "1", ItemID: 9}) // replaces
	q.Enqueue("b", cdnwire.Task{ID: "3"})
	got := q.Take("a")
	if len(got) != 2 || got[0].ItemID != 9 || got[1].ID != "2" {
		t.Fatalf("a's tasks = %+v", got)
	}
	if len(q.Take("a")) != 0 || len(q.Take("b")) != 1 {
		t.Fatal("Take does not empty the node's queue, or mixes nodes")
	}
}
